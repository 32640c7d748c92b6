/**
 * comlink speaks to browser-style endpoints; its Node adapter wraps a worker_threads
 * MessagePort. The adapter ships as a UMD file without usable ESM typings, so it is
 * imported and typed once here.
 */
import { createRequire } from 'node:module';
import type { MessagePort } from 'node:worker_threads';
import type { Endpoint } from 'comlink';

const require = createRequire(import.meta.url);
const adapter = require('comlink/dist/umd/node-adapter.js') as (port: unknown) => Endpoint;

/** A comlink endpoint over a Node MessagePort. */
export function nodeEndpoint(port: MessagePort): Endpoint {
  return adapter(port);
}
