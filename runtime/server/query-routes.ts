/**
 * Interactive queries (docs/server.md):
 * - `GET /stores/:store/keys/:key`: every state key of a message key;
 * - `GET /stores/:store/keys/:key/:stateKey`: one state key (404 when absent);
 * - `?from=&to=` (epoch ms) on a window store: the windows overlapping `[from, to)`;
 * - `GET /stores/:store/keys/:key/windows?from=&to=`: a window store's windows of the key
 *   overlapping `[from, to)`, each with its current result.
 *
 * Keys are given as JSON (`"user-1"` with its quotes, URL-encoded, or `42`) and matched as
 * the compact JSON bytes `weir produce` writes; a key that is not JSON is looked up as
 * plain text (a Kafka string key), then as that JSON string (`user-1` finds `"user-1"`). The key's partition comes from the backend's partitioner
 * (murmur2, as for appends); the worker owning it answers from its committed state. A
 * partition this process does not own, or one still recovering, is answered 503 naming
 * the partition, and the group member owning it where the backend can tell
 * (`LogBackend.partitionOwner`; the local log's one process owns every partition).
 */
import type { FastifyInstance } from 'fastify';
import { QueryArgumentError, QueryNotAWindowStoreError, QueryStoreNotFoundError } from '../../shared/errors/server-errors.js';
import type { QueriedEntry, QueriedWindow, StateQuery } from '../../shared/protocol/worker-protocol.js';
import type { RunningJobParts, RunningJobView } from './running-job.js';
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

/** What a window query answers. */
export interface WindowQueryReply {
  readonly store: string;
  readonly partition: number;
  readonly windows: readonly QueriedWindow[];
}

type Reply = { code(status: number): { send(body: unknown): unknown } };

/** Where a key's query goes: its partition and the worker owning it, or the 503 to answer. */
type Routed = { partition: number; owner: number } | { unavailable: ErrorBody };

async function routeKey(parts: RunningJobParts, group: string, key: string, bytes: Uint8Array): Promise<Routed> {
  const description = await parts.backend.describeTopic(parts.inputTopics[0]!);
  const partition = parts.backend.partitionFor(bytes, description?.partitions ?? 1);
  const owner = parts.lifecycle.assignment.ownerOf(partition);
  if (owner !== undefined && !parts.lifecycle.isRecovering(partition)) return { partition, owner };
  if (owner !== undefined) {
    return {
      unavailable: { error: 'RECOVERING', message: `partition ${partition} of key ${key} is recovering its state; ask again when /readyz is 200`, partition },
    };
  }
  return { unavailable: await notOwnerBody(parts, group, key, partition) };
}

/**
 * The 503 for a key of a partition this process does not own: names the group member
 * owning it when the backend can tell (Kafka: describeGroups), the partition otherwise.
 */
async function notOwnerBody(parts: RunningJobParts, group: string, key: string, partition: number): Promise<ErrorBody> {
  const topic = parts.inputTopics[0]!;
  const owner = await parts.backend.partitionOwner?.(group, { topic, partition }).catch(() => undefined);
  if (owner === undefined) {
    return {
      error: 'NOT_OWNER',
      message: `partition ${partition} of key ${key} is not assigned to this process (another member of the job's group owns it, or a rebalance is under way)`,
      partition,
    };
  }
  return {
    error: 'NOT_OWNER',
    message: `partition ${partition} of key ${key} is owned by group member ${owner.memberId} (client ${owner.clientId} on ${owner.host}); ask its server`,
    partition,
    owner,
  };
}

const MOVED = (partition: number): ErrorBody => ({ error: 'NOT_OWNER', message: `partition ${partition} moved while it was queried; ask again`, partition });

const NOT_RUNNING: ErrorBody = { error: 'NOT_RUNNING', message: 'the job is not running yet (or any more)' };

/** Registers the query routes; `group` is the job's consumer group (its appId), asked for a partition's owner. */
export function registerQueryRoutes(server: FastifyInstance, job: RunningJobView, group: string): void {
  type Route = { Params: { store: string; key: string; stateKey?: string }; Querystring: { from?: string; to?: string } };
  const handler = async (request: { params: Route['Params']; query: Route['Querystring'] }, reply: Reply): Promise<unknown> => {
    const parts = job.parts;
    if (parts === undefined) return reply.code(503).send(NOT_RUNNING);
    const { store, key, stateKey } = request.params;
    if (!parts.stores.includes(store)) throw new QueryStoreNotFoundError(store, parts.stores);
    const from = timeParameter('from', request.query.from);
    const to = timeParameter('to', request.query.to);
    let last: { partition: number; entries: QueriedEntry[] } | undefined;
    // A key that is not JSON: its plain-text bytes (a Kafka string key), then as a JSON string (what weir produce writes).
    for (const bytes of keyCandidates(key)) {
      const routed = await routeKey(parts, group, key, bytes);
      if ('unavailable' in routed) return reply.code(503).send(routed.unavailable);
      const { partition, owner } = routed;
      const query: StateQuery = {
        store,
        partition,
        key: bytes,
        ...(stateKey === undefined ? {} : { stateKey: stateKeyBytes(stateKey) }),
        ...(from === undefined ? {} : { from }),
        ...(to === undefined ? {} : { to }),
      };
      const entries = await parts.workers[owner]!.control.query(query);
      if (entries === undefined) return reply.code(503).send(MOVED(partition));
      last = { partition, entries };
      if (entries.length > 0) break;
    }
    const { partition, entries } = last!;
    if (stateKey !== undefined && entries.length === 0) {
      return reply.code(404).send({ error: 'NOT_FOUND', message: `no state key ${stateKey} for key ${key} in store ${store}`, partition } satisfies ErrorBody);
    }
    return { store, partition, entries } satisfies QueryReply;
  };
  const windowsHandler = async (request: { params: Route['Params']; query: Route['Querystring'] }, reply: Reply): Promise<unknown> => {
    const parts = job.parts;
    if (parts === undefined) return reply.code(503).send(NOT_RUNNING);
    const { store, key } = request.params;
    if (!parts.stores.includes(store)) throw new QueryStoreNotFoundError(store, parts.stores);
    const from = timeParameter('from', request.query.from);
    const to = timeParameter('to', request.query.to);
    if (from !== undefined && to !== undefined && to <= from) throw new QueryArgumentError('to', `must be after from (${from}), got ${to}`);
    let last: WindowQueryReply | undefined;
    for (const bytes of keyCandidates(key)) {
      const routed = await routeKey(parts, group, key, bytes);
      if ('unavailable' in routed) return reply.code(503).send(routed.unavailable);
      const { partition, owner } = routed;
      const query: StateQuery = { store, partition, key: bytes, ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) };
      const windows = await parts.workers[owner]!.control.queryWindows(query);
      if (windows === 'not-a-window-store') throw new QueryNotAWindowStoreError(store);
      if (windows === undefined) return reply.code(503).send(MOVED(partition));
      last = { store, partition, windows };
      if (windows.length > 0) break;
    }
    return last!;
  };
  // The static `windows` segment wins over `:stateKey` (find-my-way); a key-value state key
  // named "windows" is asked for as `%22windows%22`.
  server.get<Route>('/stores/:store/keys/:key/windows', windowsHandler);
  server.get<Route>('/stores/:store/keys/:key', handler);
  server.get<Route>('/stores/:store/keys/:key/:stateKey', handler);
}
