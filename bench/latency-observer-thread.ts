/**
 * The latency bench's observer (a worker thread of the bench's child process). The job's
 * thread polls the output topic as batch sets (`pollBatches`, no record decoded there),
 * notes `Date.now()` when the poll answered, and posts the sets here; this thread walks
 * their records: an output of the count job carries its input's timestamp, so its
 * latency is the poll's time − the record's timestamp.
 *
 * Duplicates: the count job emits each (key, count) once and a key's outputs arrive in
 * order (one partition), so an output whose count is not above the last count seen for
 * its key was seen before. The last count is kept per key in one typed array: a set of
 * every output's identity grew the bench's process to 500–700 MiB at 25–50 k records/s.
 *
 * The job's own part of the latency (input durable → output visible) needs when each
 * input step's append became durable: the job's thread posts an {@link InputAppended} per
 * step, always before the outputs of that step can be observed (the job reads only durable
 * records, and the notice is posted as the append resolves).
 *
 * Messages in: {@link ObserverStart}, {@link InputAppended}, {@link ObservedSets}, `'finish'`. Out: an
 * {@link ObserverProgress} after each set message, the {@link ObserverResult} after `'finish'`.
 */
import { parentPort } from 'node:worker_threads';
import { forEachRecordSpanInSet } from '../shared/protocol/record-batch.js';

export interface ObserverStart {
  readonly kind: 'start';
  readonly keys: number;
  /** Inputs stamped in [windowStart, windowEnd) are measured. */
  readonly windowStart: number;
  readonly windowEnd: number;
  /** Room for this many latencies. */
  readonly capacity: number;
}

export interface ObservedSets {
  readonly kind: 'sets';
  readonly sets: ArrayBuffer[];
  /** `Date.now()` when the poll that returned them answered. */
  readonly observedAt: number;
}

/** An input step's records (all stamped `timestamp`) became durable in the log at `durableAt`. */
export interface InputAppended {
  readonly kind: 'appended';
  readonly timestamp: number;
  readonly durableAt: number;
}

export interface ObserverProgress {
  readonly progress: true;
  readonly observedInWindow: number;
}

export interface ObserverResult {
  readonly observed: number;
  readonly observedInWindow: number;
  readonly duplicates: number;
  /** Outputs whose key or value is not the count job's (`"user-N"`, a count). */
  readonly unreadable: number;
  /** Latencies (ms) of the window's inputs, stamped → visible, sorted. */
  readonly latencies: Float32Array;
  /** Latencies (ms) of the window's inputs, durable → visible, sorted. */
  readonly latenciesFromDurable: Float32Array;
  /** Per second of the window (by input stamp): outputs later than {@link SLOW_MS}, and the largest latency. */
  readonly slowBySecond: Uint32Array;
  readonly maxBySecond: Float32Array;
}

/** The bench's target: an output later than this is in the tail the target is about. */
const SLOW_MS = 50;

const port = parentPort;
if (port === null) throw new Error('latency-observer-thread.js runs as a worker thread only');

const QUOTE = 0x22;
const PREFIX = '"user-';

/** The decimal number in `bytes[from, to)`, or −1 when it is not one. */
function decimal(bytes: Uint8Array, from: number, to: number): number {
  if (from >= to) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const digit = bytes[i]! - 0x30;
    if (digit < 0 || digit > 9) return -1;
    n = n * 10 + digit;
  }
  return n;
}

/** N of a `"user-N"` key, or −1. */
function keyIndex(bytes: Uint8Array, at: number, length: number): number {
  if (length < PREFIX.length + 2 || bytes[at + length - 1] !== QUOTE) return -1;
  for (let i = 0; i < PREFIX.length; i++) if (bytes[at + i] !== PREFIX.charCodeAt(i)) return -1;
  return decimal(bytes, at + PREFIX.length, at + length - 1);
}

let start: ObserverStart | undefined;
let lastCount = new Float64Array(0);
// Float32: whole milliseconds, exact far beyond any latency; half the memory of Float64.
let latencies = new Float32Array(0);
let latenciesFromDurable = new Float32Array(0);
/** Input step timestamp → when its append became durable. */
const durableAt = new Map<number, number>();
let fromDurableCount = 0;
let slowBySecond = new Uint32Array(0);
let maxBySecond = new Float32Array(0);
let observed = 0;
let observedInWindow = 0;
let duplicates = 0;
let unreadable = 0;

port.on('message', (message: ObserverStart | InputAppended | ObservedSets | 'finish') => {
  if (message === 'finish') {
    const measured = latencies.slice(0, Math.min(observedInWindow, latencies.length)).sort();
    const fromDurable = latenciesFromDurable.slice(0, Math.min(fromDurableCount, latenciesFromDurable.length)).sort();
    port.postMessage(
      { observed, observedInWindow, duplicates, unreadable, latencies: measured, latenciesFromDurable: fromDurable, slowBySecond, maxBySecond } satisfies ObserverResult,
      [measured.buffer, fromDurable.buffer, slowBySecond.buffer, maxBySecond.buffer],
    );
    return;
  }
  if (message.kind === 'start') {
    start = message;
    lastCount = new Float64Array(message.keys);
    latencies = new Float32Array(message.capacity);
    latenciesFromDurable = new Float32Array(message.capacity);
    const windowSeconds = Math.ceil((message.windowEnd - message.windowStart) / 1000);
    slowBySecond = new Uint32Array(windowSeconds);
    maxBySecond = new Float32Array(windowSeconds);
    return;
  }
  if (message.kind === 'appended') {
    // Two steps stamped in the same millisecond: the earlier append's time (the log orders
    // appends by call), so the job's part is never understated.
    if (!durableAt.has(message.timestamp)) durableAt.set(message.timestamp, message.durableAt);
    return;
  }
  const window = start;
  if (window === undefined) throw new Error('latency observer: sets before start');
  const observedAt = message.observedAt;
  for (const set of message.sets) {
    forEachRecordSpanInSet(set, (batch, _offset, timestamp, keyAt, keyLength, valueAt, valueLength) => {
      observed++;
      const key = keyLength < 0 ? -1 : keyIndex(batch, keyAt, keyLength);
      const count = valueLength < 0 ? -1 : decimal(batch, valueAt, valueAt + valueLength);
      if (key < 0 || key >= lastCount.length || count < 0) {
        unreadable++;
        return;
      }
      if (count <= lastCount[key]!) {
        duplicates++;
        return;
      }
      lastCount[key] = count;
      if (timestamp >= window.windowStart && timestamp < window.windowEnd) {
        const latency = observedAt - timestamp;
        if (observedInWindow < latencies.length) latencies[observedInWindow] = latency;
        const second = Math.floor((timestamp - window.windowStart) / 1000);
        if (latency > SLOW_MS) slowBySecond[second]!++;
        if (latency > maxBySecond[second]!) maxBySecond[second] = latency;
        observedInWindow++;
        const durable = durableAt.get(timestamp);
        if (durable !== undefined && fromDurableCount < latenciesFromDurable.length) latenciesFromDurable[fromDurableCount++] = observedAt - durable;
      }
    });
  }
  port.postMessage({ progress: true, observedInWindow } satisfies ObserverProgress);
});
