/**
 * Entry point of a worker thread (run by piscina as one long-lived task): serves the
 * control port through comlink and the data port with a `JobWorker` until closed.
 */
import { expose } from 'comlink';
import { nodeEndpoint } from '../shared/protocol/comlink-node-endpoint.js';
import type { MessagePort } from 'node:worker_threads';
import type { DataMessage, WorkerInit } from '../shared/protocol/worker-protocol.js';
import { JobWorker } from './job-worker.js';

interface WorkerTaskInput {
  readonly init: WorkerInit;
  readonly controlPort: MessagePort;
  readonly dataPort: MessagePort;
}

export default async function workerTask({ init, controlPort, dataPort }: WorkerTaskInput): Promise<void> {
  const worker = await JobWorker.start(init, (message: DataMessage) => dataPort.postMessage(message));
  dataPort.on('message', (message: DataMessage) => worker.receive(message));
  expose(worker, nodeEndpoint(controlPort));
  await worker.closed;
  dataPort.close();
  // Let comlink's reply to `close` leave the port before closing it.
  setImmediate(() => controlPort.close());
}
