import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../config/index.js';
import { openLogBackend } from '../../runtime/open-log-backend.js';

t.test('openLogBackend opens the local backend at the configured path', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'weir-open-backend-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const config = parseConfig({ appId: 'a', input: { topics: ['in'] }, pipeline: 'p.js', log: { backend: 'local', path: 'log' } }, 'test', dir, {});
  const backend = await openLogBackend(config);
  t.equal(backend.kind, 'local');
  await backend.createTopic('in', 2);
  await backend.close();

  const reopened = await openLogBackend(config);
  t.same((await reopened.listTopics()).map((topic) => [topic.name, topic.partitions]), [['in', 2]], 'same directory');
  await reopened.close();
});
