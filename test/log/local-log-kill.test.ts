/**
 * kill -9 during appends: a child process appends in a loop (record objects and
 * encoded record batches, with and without group offsets) and prints each
 * acknowledged record; the parent SIGKILLs it at a random moment, reopens the log
 * and checks that every acknowledged record is there, intact, at its offset, and
 * that the log below its high watermarks is whole. Repeated on the same directory,
 * so later rounds also append to a log recovered after a kill.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalLogBackend } from '../../shared/log/local/local-log-backend.js';
import { tpKey, type LogRecord } from '../../shared/log/log-backend.js';
import { expectedRecord } from './fixtures/append-loop-records.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'append-loop.js');
const TOPIC = 'kill-test';
const ROUNDS = 4;

interface Ack {
  readonly partition: number;
  readonly offset: number;
  readonly seq: number;
}

/** Runs the child until it acknowledged some records, kills it at a random moment, returns what it acknowledged. */
function runAndKill(dir: string, firstSeq: number): Promise<{ acks: Ack[]; commits: number[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir, TOPIC, String(firstSeq)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acks: Ack[] = [];
    const commits: number[] = [];
    let pending = '';
    let stderr = '';
    let killTimer: NodeJS.Timeout | undefined;
    const killAfterMs = 50 + Math.floor(Math.random() * 700);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        const [kind, a, b, c] = line.split(' ');
        if (kind === 'ack') acks.push({ partition: Number(a), offset: Number(b), seq: Number(c) });
        else if (kind === 'commit') commits.push(Number(a));
      }
      // Kill at a random moment after the child is appending steadily.
      killTimer ??= setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(killTimer);
      if (signal !== 'SIGKILL') reject(new Error(`child exited with ${code ?? signal}: ${stderr}`));
      else resolve({ acks, commits });
    });
  });
}

function same(record: LogRecord, seq: number): boolean {
  const want = expectedRecord(seq);
  const eq = (a: Uint8Array | null, b: Uint8Array): boolean => a !== null && Buffer.from(a).equals(Buffer.from(b));
  return (
    eq(record.key, want.key) &&
    eq(record.value, want.value) &&
    record.timestamp === want.timestamp &&
    record.headers.length === 1 &&
    record.headers[0]!.key === 'seq' &&
    eq(record.headers[0]!.value, want.headers[0]!.value)
  );
}

t.test('kill -9 during appends loses nothing acknowledged', { timeout: 600_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'weir-log-kill-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  let nextSeq = 0;
  const allAcks: Ack[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const { acks, commits } = await runAndKill(dir, nextSeq);
    t.ok(acks.length > 0, `round ${round}: the child acknowledged ${acks.length} records before the kill`);
    allAcks.push(...acks);

    const log = await LocalLogBackend.open(dir);
    const reader = await log.reader();
    const bySeq = new Map<number, LogRecord>();
    let highestSeq = nextSeq - 1;
    let whole = true;
    for (let partition = 0; partition < 4; partition++) {
      const tp = { topic: TOPIC, partition };
      const { high } = await log.watermarks(tp);
      let expectedOffset = 0;
      for (;;) {
        const batch = await reader.read(tp, expectedOffset, 1_000);
        if (batch.length === 0) break;
        for (const record of batch) {
          // Every offset below the high watermark exists, and holds a record the child wrote.
          const seq = Number(Buffer.from(record.value ?? new Uint8Array()).toString().split('|')[0]);
          if (record.offset !== expectedOffset || !same(record, seq)) whole = false;
          bySeq.set(seq, record);
          highestSeq = Math.max(highestSeq, seq);
          expectedOffset++;
        }
      }
      if (expectedOffset !== high) whole = false;
    }
    t.ok(whole, `round ${round}: the recovered log is gap-free and every record intact`);
    const lost = allAcks.filter((ack) => {
      const record = bySeq.get(ack.seq);
      return record === undefined || record.partition !== ack.partition || record.offset !== ack.offset || !same(record, ack.seq);
    });
    t.same(lost, [], `round ${round}: all ${allAcks.length} acknowledged records are there, at their offsets`);
    const committed = (await log.committedOffsets('kill-test', [{ topic: TOPIC, partition: 0 }])).get(
      tpKey({ topic: TOPIC, partition: 0 }),
    );
    if (commits.length > 0) {
      t.ok(committed !== undefined && committed >= commits[commits.length - 1]!, `round ${round}: the last acknowledged commit is there`);
    }
    await reader.close();
    await log.close();
    // The next child continues numbering after anything that reached the log, acknowledged or not.
    nextSeq = highestSeq + 1;
  }
});
