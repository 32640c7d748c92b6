/**
 * The layout is the architecture (docs/architecture.md): every relative import of the
 * TypeScript sources points along an allowed arrow, never back up. shared/ is the bottom
 * (protocol, codecs, log backends, errors); config/ and workers/ build on it; runtime/ (the
 * coordinator and the CLI) on everything.
 */
import t from 'tap';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: this file runs from dist/test/structure/. */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Which top-level directories each layer may import from (besides itself). */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  shared: [],
  config: ['shared'],
  workers: ['shared'],
  runtime: ['shared', 'config', 'workers', 'bench'],
};

function sourcesOf(dir: string): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files.push(...sourcesOf(path));
    else if (/\.(c|m)?ts$/.test(name) && !name.endsWith('.d.ts')) files.push(path);
  }
  return files;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+'(\.{1,2}\/[^']+)'|import\(\s*'(\.{1,2}\/[^']+)'\s*\)/g;

t.test('no module imports from a layer above its own', async (t) => {
  let checked = 0;
  const violations: string[] = [];
  for (const [layer, allowed] of Object.entries(ALLOWED)) {
    for (const file of sourcesOf(join(ROOT, layer))) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(IMPORT)) {
        const specifier = match[1] ?? match[2]!;
        const target = relative(ROOT, resolve(dirname(file), specifier)).split(sep)[0]!;
        checked++;
        if (target !== layer && !allowed.includes(target)) violations.push(`${relative(ROOT, file)} imports ${specifier} (${layer} → ${target})`);
      }
    }
  }
  t.ok(checked > 200, `${checked} imports checked`);
  t.same(violations, [], 'every import follows an allowed arrow');
});

/** Files allowed to define error classes besides shared/errors/ (docs/architecture.md). */
const ERROR_HOMES = new Set(['runtime/cli/cli-errors.ts', 'bench/engine/bench-errors.ts']);

t.test('error classes are defined in shared/errors/ (or a tool\'s own errors file)', async (t) => {
  const misplaced: string[] = [];
  let classes = 0;
  for (const layer of [...Object.keys(ALLOWED), 'bench']) {
    for (const file of sourcesOf(join(ROOT, layer))) {
      const path = relative(ROOT, file).split(sep).join('/');
      for (const match of readFileSync(file, 'utf8').matchAll(/\bclass\s+(\w+)\s+extends\s+(\w*Error)\b/g)) {
        classes++;
        if (!path.startsWith('shared/errors/') && !ERROR_HOMES.has(path)) misplaced.push(`${match[1]} in ${path}`);
      }
    }
  }
  t.ok(classes > 50, `${classes} error classes found`);
  t.same(misplaced, [], 'every error class in its home');
});
