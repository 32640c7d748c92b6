/**
 * The latency bench's producer thread (`--producer thread`): every {@link STEP_MS} it
 * builds the records due (latency-schedule.ts) and posts their batches to the job's
 * thread, which appends them with `appendBatches`, touching no record: what a
 * live-produce request costs the coordinator (runtime/server/live-produce.ts).
 * Generating and encoding the records here keeps that work off the job's event loop, as
 * a producer in another process would.
 *
 * Messages in: {@link ScheduleOptions}, then `'stop'`. Out: {@link ProducedBatches} per
 * step, then {@link ProducerStopped}.
 */
import { parentPort } from 'node:worker_threads';
import { CountEventSchedule, STEP_MS, type ScheduledBatches, type ScheduleOptions } from './latency-schedule.js';

export interface ProducedBatches extends ScheduledBatches {
  readonly kind: 'batches';
}

export interface ProducerStopped {
  readonly kind: 'stopped';
}

const port = parentPort;
if (port === null) throw new Error('latency-producer-thread.js runs as a worker thread only');

let timer: NodeJS.Timeout | undefined;

port.on('message', (message: ScheduleOptions | 'stop') => {
  if (message === 'stop') {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    port.postMessage({ kind: 'stopped' } satisfies ProducerStopped);
    return;
  }
  const steps = new CountEventSchedule(message);
  const step = (): void => {
    const due = steps.due();
    if (due !== undefined) {
      port.postMessage({ kind: 'batches', ...due } satisfies ProducedBatches, due.batches.map((b) => b.batch.buffer as ArrayBuffer));
    }
    timer = setTimeout(step, STEP_MS);
  };
  step();
});
