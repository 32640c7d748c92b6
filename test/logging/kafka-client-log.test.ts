/**
 * The Kafka clients' own log lines reach weir's log (runtime/open-log-backend.ts): warnings
 * and errors at their level, prefixed `kafka:`; librdkafka's expected warning that a
 * property of the other client role is ignored, and its informational lines, only at debug.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MODULE = fileURLToPath(new URL('../../runtime/open-log-backend.js', import.meta.url));
const CONFWARN = '[producer] CONFWARN: [thrd:app]: Configuration property session.timeout.ms is a consumer property and will be ignored by this producer instance';

/** stderr of a process that logs each line through `kafkaClientLog` at `level` (text format). */
function logged(level: string, lines: readonly (readonly [string, string])[]): string {
  const script = `import { kafkaClientLog } from ${JSON.stringify(MODULE)};\nfor (const [l, m] of ${JSON.stringify(lines)}) kafkaClientLog(l, m);`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, WEIR_LOGGING__FORMAT: 'text', WEIR_LOGGING__LEVEL: level },
  });
  return run.stderr;
}

const LINES = [
  ['error', '[consumer app] FAIL: 127.0.0.1:9092/bootstrap: Connect failed'],
  ['warn', '[consumer app] SESSTMOUT: consumer group session timed out'],
  ['warn', CONFWARN],
  ['info', '[consumer app] informational'],
] as const;

t.test('at info: errors and warnings, the other role\'s property warning left out', async (t) => {
  const lines = logged('info', LINES).trim().split('\n');
  t.same(lines, [
    'weir: kafka: [consumer app] FAIL: 127.0.0.1:9092/bootstrap: Connect failed',
    'weir: kafka: [consumer app] SESSTMOUT: consumer group session timed out',
  ]);
});

t.test('at debug: every line', async (t) => {
  const lines = logged('debug', LINES).trim().split('\n');
  t.equal(lines.length, 4);
  t.ok(lines.includes(`weir: kafka: ${CONFWARN}`));
  t.ok(lines.includes('weir: kafka: [consumer app] informational'));
});
