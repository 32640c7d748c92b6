/**
 * docs/windows.md's worked examples, run as written: every ```js block with an
 * `// example:` line is parsed here and fed through the window operator, so the doc and
 * the behaviour cannot drift. Grammar of a block (see the doc):
 *   const w = <window declaration>;
 *   w(<key>, <value>, <timestamp>);   // emits <key> <json>; late [<start>, <end>)
 *   close();                          // emits ... (end of input, --close-windows)
 * A line without a comment must emit nothing and be late for nothing.
 */
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as api from '../../shared/pipeline/windows.js';
import type { LateRecord, WindowDeclaration } from '../../shared/pipeline/windows.js';
import { OperatorHarness } from './fixtures/operator-harness.js';

t.setTimeout(120_000);

const DOC = fileURLToPath(new URL('../../../docs/windows.md', import.meta.url));
const KINDS = ['tumblingWindow', 'hoppingWindow', 'slidingWindow', 'tumblingCountWindow', 'hoppingCountWindow', 'slidingCountWindow', 'sessionWindow'];

interface Example {
  readonly name: string;
  readonly declaration: string;
  readonly steps: { readonly line: string; readonly args: unknown[] | 'close'; readonly comment: string }[];
}

function parseExamples(markdown: string): Example[] {
  const examples: Example[] = [];
  for (const [, body] of markdown.matchAll(/```js\n([\s\S]*?)```/g)) {
    const lines = body!.split('\n').map((l) => l.trim()).filter((l) => l !== '');
    const name = /^\/\/ example: (.+)$/.exec(lines[0] ?? '')?.[1];
    if (name === undefined) continue;
    const declaration = /^const w = (.*);$/.exec(lines[1] ?? '')?.[1];
    if (declaration === undefined) throw new Error(`example ${name}: the second line must be "const w = <declaration>;"`);
    const steps = lines.slice(2).map((line) => {
      const m = /^(w\((.*)\)|close\(\));\s*(?:\/\/\s*(.*))?$/.exec(line);
      if (m === null) throw new Error(`example ${name}: cannot read "${line}"`);
      const args = m[1] === 'close()' ? ('close' as const) : (new Function(`return [${m[2]}];`)() as unknown[]);
      return { line, args, comment: m[3] ?? '' };
    });
    examples.push({ name, declaration, steps });
  }
  return examples;
}

/** What a comment promises: final results as `{key, ...payload}` and late windows as `[start, end]`. */
function expectations(comment: string): { emits: Record<string, unknown>[]; late: [number, number][] } {
  const emits: Record<string, unknown>[] = [];
  const late: [number, number][] = [];
  for (const part of comment.split(/;\s*/).filter((p) => p !== '')) {
    const emit = /^emits (\S+) (\{.*\})$/.exec(part);
    const lateFor = /^late [[(](\d+), (\d+)[\])]$/.exec(part);
    if (emit !== null) emits.push({ key: emit[1], ...(JSON.parse(emit[2]!) as Record<string, unknown>) });
    else if (lateFor !== null) late.push([Number(lateFor[1]), Number(lateFor[2])]);
    else throw new Error(`cannot read the outcome "${part}"`);
  }
  return { emits, late };
}

const examples = parseExamples(await readFile(DOC, 'utf8'));

t.test('the doc has a worked example and a table row per window kind', async (t) => {
  const markdown = await readFile(DOC, 'utf8');
  for (const kind of KINDS) {
    t.ok(examples.some((e) => e.declaration.startsWith(`${kind}(`)), `an example of ${kind}`);
    t.match(markdown, new RegExp(`^\\| \`${kind}\` \\|`, 'm'), `a table row for ${kind}`);
  }
});

for (const example of examples) {
  t.test(`docs/windows.md example: ${example.name}`, async (t) => {
    const declared = new Function(...Object.keys(api), `return (${example.declaration});`)(...Object.values(api)) as WindowDeclaration<unknown>;
    let reported: [number, number][] = [];
    const onLate = (late: LateRecord<unknown>): boolean => (reported.push([late.start, late.end]), false);
    const h = await OperatorHarness.open(t, { ...declared, onLate } as never);
    for (const step of example.steps) {
      reported = [];
      const emitted = step.args === 'close' ? await h.closeAll() : (await h.process(...(step.args as [unknown, unknown, number]))).expired;
      const expected = expectations(step.comment);
      t.same(emitted, expected.emits, `${step.line}: emits`);
      t.same(reported, expected.late, `${step.line}: late`);
    }
  });
}
