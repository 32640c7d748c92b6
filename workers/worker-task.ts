/**
 * Entry point of a worker thread (run by piscina as one long-lived task): serves the
 * control port through comlink and the data port with a `JobWorker` until closed.
 */
import { expose } from 'comlink';
import { nodeEndpoint } from '../shared/protocol/comlink-node-endpoint.js';
import type { DataMessage, WorkerTaskInput } from '../shared/protocol/worker-protocol.js';
export type { WorkerTaskInput };
import { JobWorker } from './job-worker.js';
import { configureLogging } from '../shared/logging/weir-log.js';

export default async function workerTask({ init, controlPort, dataPort, controlCalls }: WorkerTaskInput): Promise<void> {
  configureLogging(init.logging);
  const worker = await JobWorker.start(init, (message: DataMessage, transfer?: ArrayBuffer[]) => dataPort.postMessage(message, transfer), controlCalls);
  dataPort.on('message', (message: DataMessage) => worker.receive(message));
  expose(worker, nodeEndpoint(controlPort));
  await worker.closed;
  dataPort.close();
  // Let comlink's reply to `close` leave the port before closing it.
  setImmediate(() => controlPort.close());
}
