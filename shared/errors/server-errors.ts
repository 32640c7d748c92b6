/** Errors of the running job's HTTP server and of the CLI talking to it (docs/server.md). */
import { WeirError } from './weir-error.js';

/**
 * A request the running job answered with an error: the job's own code and message are
 * kept, so `weir produce` through a job reports what it would have reported directly.
 */
export class RemoteJobError extends WeirError {
  /** The job's error code (e.g. `TOPIC_PARTITION_COUNT_MISMATCH`). */
  readonly remoteCode: string;
  /** HTTP status of the answer. */
  readonly status: number;

  constructor(status: number, remoteCode: string, message: string) {
    super('SERVER_REQUEST_FAILED', message);
    this.remoteCode = remoteCode;
    this.status = status;
  }
}

/** The job's server could not be reached at the address its address file names. */
export class ServerUnreachableError extends WeirError {
  readonly url: string;

  constructor(url: string, cause: unknown) {
    super('SERVER_UNREACHABLE', `the running job's server at ${url} did not answer: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.url = url;
  }
}

/** The job's server could not listen (the port is taken, the address is not this machine's). */
export class ServerListenError extends WeirError {
  readonly host: string;
  readonly port: number;

  constructor(host: string, port: number, cause: unknown) {
    const reason = (cause as NodeJS.ErrnoException | undefined)?.code ?? (cause instanceof Error ? cause.message : String(cause));
    super('SERVER_LISTEN_FAILED', `the job's server cannot listen on ${host}:${port} (${reason}); set server.port (0 picks a free one) or server.host, or server.enabled: false`, { cause });
    this.host = host;
    this.port = port;
  }
}

/** Live produce pushed back longer than the client was willing to wait. */
export class ServerBusyError extends WeirError {
  readonly topic: string;

  constructor(topic: string, waitedMs: number) {
    super('SERVER_BUSY', `the running job is behind on ${topic}: produce was refused for ${Math.round(waitedMs / 1000)} s (its workers have not caught up); try again later`);
    this.topic = topic;
  }
}

/** A query for a store the job's pipeline does not declare. */
export class QueryStoreNotFoundError extends WeirError {
  readonly store: string;

  constructor(store: string, known: readonly string[]) {
    super('QUERY_UNKNOWN_STORE', `store "${store}" is not a store of this job (stores: ${known.length > 0 ? known.join(', ') : 'none'})`);
    this.store = store;
  }
}

/** A query key or time range that cannot be read (bad JSON, a non-number bound). */
export class QueryArgumentError extends WeirError {
  /** The parameter at fault (`key`, `stateKey`, `from`, `to`). */
  readonly parameter: string;

  constructor(parameter: string, problem: string) {
    super('QUERY_BAD_ARGUMENT', `${parameter}: ${problem}`);
    this.parameter = parameter;
  }
}

/** A window query (`/stores/:store/keys/:key/windows`) of a key-value store. */
export class QueryNotAWindowStoreError extends WeirError {
  readonly store: string;

  constructor(store: string) {
    super('QUERY_NOT_A_WINDOW_STORE', `store "${store}" is a key-value store, not a window store: ask /stores/${store}/keys/KEY for its state`);
    this.store = store;
  }
}

/**
 * The live-produce parser thread (runtime/server/produce-parser.ts) failed on a request
 * body for a reason other than a bad line (the thread crashed, or the server is closing).
 * Nothing of the request was appended.
 */
export class ProduceParserError extends WeirError {
  /** The thread's stack, when the failure came from its code. */
  readonly threadStack: string | undefined;

  constructor(reason: string, threadStack?: string) {
    super('SERVER_PRODUCE_PARSER_FAILED', `live produce could not parse the request body: ${reason}; nothing was appended`);
    this.threadStack = threadStack;
  }
}
