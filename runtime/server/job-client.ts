/**
 * The CLI's side of the server: requests to a running job found through its address
 * file (address-file.ts), with the token from the CLI's own config. Error answers
 * become {@link RemoteJobError}s carrying the job's message, so a command run through
 * the job prints what it would have printed on its own.
 */
import type { ServerConfig } from '../../config/index.js';
import { RemoteJobError, ServerBusyError, ServerUnreachableError } from '../../shared/errors/server-errors.js';
import type { ServerAddress } from './address-file.js';
import type { ProduceReply } from './produce-route.js';

/** How long the CLI keeps retrying a produce the job pushes back on (429) before giving up. */
export const PRODUCE_BUSY_GIVE_UP_MS = 10 * 60 * 1000;

export class JobClient {
  constructor(
    private readonly address: ServerAddress,
    private readonly server: Pick<ServerConfig, 'token'>,
  ) {}

  get url(): string {
    return this.address.url;
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return this.server.token === undefined ? extra : { ...extra, authorization: `Bearer ${this.server.token}` };
  }

  /** One request; a connection failure is {@link ServerUnreachableError}. */
  async request(path: string, init: { method?: string; body?: Uint8Array | string; headers?: Record<string, string> } = {}): Promise<Response> {
    try {
      return await fetch(`${this.address.url}${path}`, {
        method: init.method ?? 'GET',
        headers: this.headers(init.headers),
        ...(init.body === undefined ? {} : { body: init.body }),
      });
    } catch (error) {
      throw new ServerUnreachableError(this.address.url, error instanceof Error && error.cause !== undefined ? error.cause : error);
    }
  }

  /** The JSON of a 2xx answer; an error answer as {@link RemoteJobError}. */
  async json<T>(response: Response): Promise<T> {
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (response.ok) return body as T;
    const error = (body ?? {}) as { error?: string; message?: string };
    throw new RemoteJobError(response.status, error.error ?? 'UNKNOWN', error.message ?? `the job answered ${response.status}: ${text.slice(0, 200)}`);
  }

  /**
   * Appends one JSON Lines body to `topic` through the job; waits out pushback (429,
   * `Retry-After`) for up to {@link PRODUCE_BUSY_GIVE_UP_MS}.
   * @throws ServerBusyError when the job kept pushing back.
   */
  async produce(topic: string, body: string, partitions: number | undefined): Promise<ProduceReply> {
    const query = partitions === undefined ? '' : `?partitions=${partitions}`;
    const started = performance.now();
    for (;;) {
      const response = await this.request(`/topics/${encodeURIComponent(topic)}/records${query}`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/x-ndjson' },
      });
      if (response.status !== 429) return this.json<ProduceReply>(response);
      await response.text();
      const waited = performance.now() - started;
      if (waited >= PRODUCE_BUSY_GIVE_UP_MS) throw new ServerBusyError(topic, waited);
      const retryAfter = Number(response.headers.get('retry-after') ?? '1');
      await new Promise((resolve) => setTimeout(resolve, Math.max(50, (Number.isFinite(retryAfter) ? retryAfter : 1) * 1000)));
    }
  }
}
