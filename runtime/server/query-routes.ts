/**
 * Interactive queries (docs/server.md):
 * - `GET /stores/:store/keys/:key`: every state key of a message key;
 * - `GET /stores/:store/keys/:key/:stateKey`: one state key (404 when absent);
 * - `?from=&to=` (epoch ms) on a window store: the windows overlapping `[from, to)`.
 *
 * Keys are given as JSON (`"user-1"` with its quotes, URL-encoded, or `42`) and matched as
 * the compact JSON bytes `weir produce` writes; a key that is not JSON is looked up as
 * plain text (a Kafka string key), then as that JSON string (`user-1` finds `"user-1"`). The key's partition comes from the backend's partitioner
 * (murmur2, as for appends); the worker owning it answers from its committed state. A
 * partition this process does not own, or one still recovering, is answered 503 naming
 * the partition: on the local log one process owns every partition once assigned.
 */
import type { FastifyInstance } from 'fastify';
import { QueryArgumentError, QueryStoreNotFoundError } from '../../shared/errors/server-errors.js';
import type { QueriedEntry, StateQuery } from '../../shared/protocol/worker-protocol.js';
import type { RunningJobView } from './running-job.js';
import type { ErrorBody } from './error-replies.js';

const encoder = new TextEncoder();

/** Key bytes to try for a key given in a URL: its compact JSON; or, when it is not JSON, its text, then it as a JSON string. */
export function keyCandidates(text: string): Uint8Array[] {
  try {
    return [encoder.encode(JSON.stringify(JSON.parse(text)))];
  } catch {
    return [encoder.encode(text), encoder.encode(JSON.stringify(text))];
  }
}

/** A state key: JSON only (state keys are always stored as JSON). */
function stateKeyBytes(text: string): Uint8Array {
  try {
    return encoder.encode(JSON.stringify(JSON.parse(text)));
  } catch {
    // A bare word (`count`) is the JSON string "count": state keys are mostly strings.
    return encoder.encode(JSON.stringify(text));
  }
}

function timeParameter(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isSafeInteger(value)) throw new QueryArgumentError(name, `expected epoch milliseconds, got ${JSON.stringify(raw)}`);
  return value;
}

/** What a query answers. */
export interface QueryReply {
  readonly store: string;
  readonly partition: number;
  readonly entries: readonly QueriedEntry[];
}

export function registerQueryRoutes(server: FastifyInstance, job: RunningJobView): void {
  type Route = { Params: { store: string; key: string; stateKey?: string }; Querystring: { from?: string; to?: string } };
  const handler = async (
    request: { params: Route['Params']; query: Route['Querystring'] },
    reply: { code(status: number): { send(body: unknown): unknown } },
  ): Promise<unknown> => {
    const parts = job.parts;
    if (parts === undefined) return reply.code(503).send({ error: 'NOT_RUNNING', message: 'the job is not running yet (or any more)' } satisfies ErrorBody);
    const { store, key, stateKey } = request.params;
    if (!parts.stores.includes(store)) throw new QueryStoreNotFoundError(store, parts.stores);
    const from = timeParameter('from', request.query.from);
    const to = timeParameter('to', request.query.to);
    const description = await parts.backend.describeTopic(parts.inputTopics[0]!);
    let last: { partition: number; entries: QueriedEntry[] } | undefined;
    // A key that is not JSON: its plain-text bytes (a Kafka string key), then as a JSON string (what weir produce writes).
    for (const bytes of keyCandidates(key)) {
      const partition = parts.backend.partitionFor(bytes, description?.partitions ?? 1);
      const owner = parts.lifecycle.assignment.ownerOf(partition);
      if (owner === undefined || parts.lifecycle.isRecovering(partition)) {
        return reply.code(503).send({
          error: owner === undefined ? 'NOT_OWNER' : 'RECOVERING',
          message:
            owner === undefined
              ? `partition ${partition} of key ${key} is not assigned to this process (another member of the job's group owns it, or a rebalance is under way)`
              : `partition ${partition} of key ${key} is recovering its state; ask again when /readyz is 200`,
          partition,
        } satisfies ErrorBody);
      }
      const query: StateQuery = {
        store,
        partition,
        key: bytes,
        ...(stateKey === undefined ? {} : { stateKey: stateKeyBytes(stateKey) }),
        ...(from === undefined ? {} : { from }),
        ...(to === undefined ? {} : { to }),
      };
      const entries = await parts.workers[owner]!.control.query(query);
      if (entries === undefined) {
        return reply.code(503).send({ error: 'NOT_OWNER', message: `partition ${partition} moved while it was queried; ask again`, partition } satisfies ErrorBody);
      }
      last = { partition, entries };
      if (entries.length > 0) break;
    }
    const { partition, entries } = last!;
    if (stateKey !== undefined && entries.length === 0) {
      return reply.code(404).send({ error: 'NOT_FOUND', message: `no state key ${stateKey} for key ${key} in store ${store}`, partition } satisfies ErrorBody);
    }
    return { store, partition, entries } satisfies QueryReply;
  };
  server.get<Route>('/stores/:store/keys/:key', handler);
  server.get<Route>('/stores/:store/keys/:key/:stateKey', handler);
}
