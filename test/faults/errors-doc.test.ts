/**
 * docs/errors.md lists every error code a user can see: each `WeirError` subclass in the
 * sources passes its code as a string literal to `super(…)`, and each must appear in the
 * document (as `` `CODE` ``), so a new error cannot ship undocumented.
 */
import t from 'tap';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, from this compiled file (dist/test/faults/). */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SOURCE_DIRS = ['shared', 'runtime', 'workers', 'config'];

async function* sourceFiles(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) yield path;
  }
}

/** Codes passed to `super(` by classes extending WeirError (a ternary of two codes counts both). */
function codesIn(source: string): string[] {
  if (!source.includes('extends WeirError')) return [];
  const codes: string[] = [];
  for (const match of source.matchAll(/super\(\s*((?:[\w.]+\s*\?\s*)?'[A-Z][A-Z0-9_]+'(?:\s*:\s*'[A-Z][A-Z0-9_]+')?)/g)) {
    for (const code of (match[1] ?? '').matchAll(/'([A-Z][A-Z0-9_]+)'/g)) codes.push(code[1] as string);
  }
  return codes;
}

t.test('every error code in the sources is documented in docs/errors.md', async (t) => {
  const doc = await readFile(join(ROOT, 'docs', 'errors.md'), 'utf8');
  const found = new Map<string, string>();
  for (const dir of SOURCE_DIRS) {
    for await (const file of sourceFiles(join(ROOT, dir))) {
      for (const code of codesIn(await readFile(file, 'utf8'))) found.set(code, relative(ROOT, file));
    }
  }
  t.ok(found.size > 50, `found the codes (${found.size})`);
  for (const code of ['STORE_CORRUPTED', 'DISK_FULL', 'PRODUCE_APPEND_FAILED', 'CONFIG_INVALID']) t.ok(found.has(code), `sees ${code}`);
  const missing = [...found].filter(([code]) => !doc.includes(`\`${code}\``)).map(([code, file]) => `${code} (${file})`);
  t.same(missing, [], 'codes missing from docs/errors.md');
});
