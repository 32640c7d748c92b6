/**
 * `POST /topics/:topic/records[?partitions=N]`: live produce (live-produce.ts). The body
 * is `weir produce` JSON Lines, any content type. Answers:
 * - 200 `{topic, produced, warnings}` once every record is durable;
 * - 400 `{error: "CLI_INPUT_LINE", line, field, message}` for a bad line, nothing appended;
 * - 413 over `server.bodyLimit`, nothing appended;
 * - 429 with `Retry-After` (seconds) when the job's workers are more than
 *   `server.maxLagRecords` records behind on the topic for `server.backpressureWaitMs`,
 *   or too many produce requests are already being handled: nothing appended.
 * Backpressure only applies to topics the job reads; other topics are appended at once.
 */
import type { FastifyInstance } from 'fastify';
import type { ServerConfig } from '../../config/index.js';
import { MAX_PARTITIONS } from '../../config/index.js';
import { QueryArgumentError } from '../../shared/errors/server-errors.js';
import { appendEncoded, expectedPartitions, type ProduceTarget } from './live-produce.js';
import type { RunningJobView } from './running-job.js';

/** Produce requests handled at once; each holds its body in memory (≤ bodyLimit). */
export const MAX_CONCURRENT_PRODUCE = 4;
/** `Retry-After` of a 429, seconds. */
const RETRY_AFTER_SECONDS = 1;

/** What a successful produce answers. */
export interface ProduceReply {
  readonly topic: string;
  readonly produced: number;
  readonly warnings: readonly string[];
}

function partitionsParameter(raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || value < 1 || value > MAX_PARTITIONS) {
    throw new QueryArgumentError('partitions', `expected an integer from 1 to ${MAX_PARTITIONS}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

export function registerProduceRoute(
  server: FastifyInstance,
  job: RunningJobView,
  target: ProduceTarget,
  config: Pick<ServerConfig, 'maxLagRecords' | 'backpressureWaitMs'>,
): void {
  let handling = 0;
  server.post<{ Params: { topic: string }; Querystring: { partitions?: string } }>('/topics/:topic/records', async (request, reply) => {
    const { topic } = request.params;
    const partitions = partitionsParameter(request.query.partitions);
    const body = request.body instanceof Uint8Array ? request.body : new Uint8Array(0);
    const busy = (message: string): unknown =>
      reply.code(429).header('retry-after', String(RETRY_AFTER_SECONDS)).send({ error: 'BUSY', message, retryAfter: RETRY_AFTER_SECONDS });
    if (handling >= MAX_CONCURRENT_PRODUCE) return busy(`${MAX_CONCURRENT_PRODUCE} produce requests are already being handled; nothing was appended`);
    handling += 1;
    try {
      // Validate first: a bad request is answered at once, whatever the lag.
      const encoded = await target.parser.parse(body, await expectedPartitions(target, topic, partitions));
      if (!(await job.waitForLagBelow(topic, config.maxLagRecords, config.backpressureWaitMs))) {
        return busy(`the job is more than ${config.maxLagRecords} records behind on ${topic} (server.maxLagRecords); nothing was appended`);
      }
      await appendEncoded(target, topic, body, encoded, partitions);
      return { topic, produced: encoded.count, warnings: encoded.warnings } satisfies ProduceReply;
    } finally {
      handling -= 1;
    }
  });
}
