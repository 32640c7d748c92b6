/**
 * A full disk during `weir produce` (issue 12, item 9): appends are durable batch by
 * batch, so a failure leaves a prefix of the input in the topic. The error says how long
 * that prefix is and names the cause: "appended N of M records before the failure: …",
 * and the topic holds exactly those N records.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { LocalLogBackend } from '../../shared/log/local/local-log-backend.js';
import type { LogBackend } from '../../shared/log/log-backend.js';
import { PRODUCE_BATCH_SIZE, produceRecords } from '../../runtime/cli/commands/produce.js';
import { ProduceAppendError } from '../../runtime/cli/cli-errors.js';
import { runWeir } from '../cli/fixtures/run-weir.js';
import { replaceMethods } from '../runtime/job-fixture.js';

t.setTimeout(300_000);

function inputOf(records: number, padding = 0): string {
  const lines: string[] = [];
  for (let i = 0; i < records; i++) lines.push(JSON.stringify({ key: `k${i}`, value: { i, pad: 'x'.repeat(padding) } }));
  return `${lines.join('\n')}\n`;
}

/** `backend` whose producers fail the append number `failAt` (1-based) with `error`. */
function failingAppends(backend: LogBackend, failAt: number, error: Error): LogBackend {
  let appends = 0;
  return replaceMethods(backend, {
    producer: async () => {
      const producer = await backend.producer();
      return replaceMethods(producer, {
        append: async (...args) => {
          appends += 1;
          if (appends === failAt) throw error;
          return producer.append(...args);
        },
      });
    },
  });
}

async function recordCount(backend: LogBackend, topic: string): Promise<number> {
  const description = await backend.describeTopic(topic);
  let total = 0;
  for (let partition = 0; partition < (description?.partitions ?? 0); partition++) {
    const { low, high } = await backend.watermarks({ topic, partition });
    total += high - low;
  }
  return total;
}

t.test('a failing append says how many records were appended and why; exactly those are in the topic', async (t) => {
  const backend = await LocalLogBackend.open(join(t.testdir(), 'log'));
  t.teardown(() => backend.close());
  const total = 5 * PRODUCE_BATCH_SIZE + 17;
  const diskFull = Object.assign(new Error('IO error: /data/log/000012.log: No space left on device'), { code: 'LEVEL_IO_ERROR' });
  const failing = failingAppends(backend, 3, diskFull);
  const error = (await produceRecords(failing, { topic: 'events', defaultPartitions: 2 }, Readable.from([inputOf(total)])).catch(
    (e: unknown) => e,
  )) as ProduceAppendError;
  t.type(error, ProduceAppendError);
  t.equal(error.code, 'PRODUCE_APPEND_FAILED');
  t.equal(error.appended, 2 * PRODUCE_BATCH_SIZE);
  t.equal(error.total, total);
  t.equal(error.topic, 'events');
  t.equal(error.cause, diskFull);
  t.equal(
    error.message,
    `appended 2000 of ${total} records before the failure: no space left on the device writing /data/log/000012.log ` +
      '(IO error: /data/log/000012.log: No space left on device); free some space, or move log.path / state.dir to a larger disk',
  );
  t.equal(await recordCount(backend, 'events'), 2 * PRODUCE_BATCH_SIZE, 'the topic holds exactly the appended prefix');

  const other = failingAppends(backend, 1, new Error('broker went away'));
  await t.rejects(produceRecords(other, { topic: 'events', defaultPartitions: 2 }, Readable.from([inputOf(10)])), {
    message: 'appended 0 of 10 records before the failure: broker went away',
  });
});

/** Mounts a `sizeKb` tmpfs at `dir`; throws where this machine does not allow it. */
function mountTmpfs(dir: string, sizeKb: number): void {
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k`, 'tmpfs', dir], { stdio: 'pipe' });
}

/** False when a tmpfs can be mounted here, else why not (the full-disk test is skipped with it). */
async function tmpfsUnavailable(): Promise<false | string> {
  const dir = await mkdtemp(join(tmpdir(), 'weir-tmpfs-probe-'));
  try {
    mountTmpfs(dir, 64);
    execFileSync('umount', [dir]);
    return false;
  } catch (error) {
    return `a size-limited tmpfs cannot be mounted here (needs root or CAP_SYS_ADMIN): ${(error as Error).message.split('\n')[0]}`;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

t.test('weir produce onto a really full disk (a 2 MB tmpfs)', { skip: await tmpfsUnavailable() }, async (t) => {
  // Not t.testdir(): its removal must not race the unmount.
  const dir = await mkdtemp(join(tmpdir(), 'weir-full-disk-'));
  const mountPoint = join(dir, 'small-disk');
  await mkdir(mountPoint);
  mountTmpfs(mountPoint, 2048);
  t.teardown(async () => {
    execFileSync('umount', [mountPoint]);
    await rm(dir, { recursive: true, force: true });
  });
  const config = join(dir, 'weir.yaml');
  await writeFile(config, 'appId: full\nlog: { backend: local, path: ./small-disk/log }\ninput: { topics: [events] }\npipeline: ./p.mjs\n');
  const total = 5000;
  const result = await runWeir(['produce', '-c', config, '--topic', 'events', '--partitions', '2'], { input: inputOf(total, 1000) });
  t.equal(result.code, 1);
  // The cause is the log's own disk-full error, or the raw LevelDB one named by the CLI.
  const match = /^weir: appended (\d+) of 5000 records before the failure: .*(?:no space left on the device|the disk is full).*\n$/i.exec(result.stderr);
  t.ok(match, `named error, no stack trace: ${result.stderr}`);
  const appended = Number(match?.[1]);
  t.ok(appended > 0 && appended < total && appended % 1000 === 0, `a prefix of whole batches (${appended})`);

  // The full disk cannot even open the log again (LevelDB writes on open): that is named too.
  const reopened = await runWeir(['topic', 'list', '-c', config]);
  t.equal(reopened.code, 1);
  t.match(reopened.stderr, /^weir: .*(?:no space left on the device|the disk is full)/i);
  t.notMatch(reopened.stderr, /unexpected error|\n\s+at /);

  // On a disk with room, the log holds exactly the records the message counted.
  const copy = join(dir, 'copy');
  await cp(join(mountPoint, 'log'), copy, { recursive: true });
  const backend = await LocalLogBackend.open(copy);
  try {
    t.equal(await recordCount(backend, 'events'), appended);
  } finally {
    await backend.close();
  }
});
