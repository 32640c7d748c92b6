import t from 'tap';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { directoryBytes } from '../../shared/directory-bytes.js';

t.test('the regular files under a folder, nested folders included; a missing folder is 0', async (t) => {
  const dir = t.testdir();
  await writeFile(join(dir, 'a'), Buffer.alloc(10));
  await mkdir(join(dir, 'sub', 'deeper'), { recursive: true });
  await writeFile(join(dir, 'sub', 'b'), Buffer.alloc(100));
  await writeFile(join(dir, 'sub', 'deeper', 'c'), Buffer.alloc(1000));
  t.equal(await directoryBytes(dir), 1110);
  t.equal(await directoryBytes(join(dir, 'missing')), 0);
});

t.test('a path that is not a folder is an error, not a size', async (t) => {
  const dir = t.testdir({ file: 'x' });
  await t.rejects(directoryBytes(join(dir, 'file')), { code: 'ENOTDIR' });
});
