/**
 * The HTTP server every `weir run` starts (docs/server.md): fastify on `server.host`
 * (loopback by default) and `server.port` (0: any free port), the address written to the
 * address file once listening and removed at close. Routes: health (health-routes.ts),
 * live produce (produce-route.ts), metrics and state queries when the job provides them.
 *
 * Every body is taken as raw bytes up to `server.bodyLimit` (fastify answers 413 above
 * it); no route reads or writes a file.
 */
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import type { WeirConfig } from '../../config/index.js';
import type { LogBackend, LogProducer } from '../../shared/log/log-backend.js';
import { addressFilePath, removeAddressFile, writeAddressFile } from './address-file.js';
import { bearerTokenChecker, OPEN_PATHS } from './bearer-auth.js';
import { replyWithError, type ErrorBody } from './error-replies.js';
import { registerHealthRoutes } from './health-routes.js';
import { registerProduceRoute } from './produce-route.js';
import { ProduceParser } from './produce-parser.js';
import { registerQueryRoutes } from './query-routes.js';
import { RunningJobView, type RunningJobParts } from './running-job.js';
import { JobMetrics } from './job-metrics.js';
import { ServerListenError } from '../../shared/errors/server-errors.js';
import type { RecoveryProgress } from '../recovery-runner.js';

/** A listening job server. */
export interface JobServer {
  /** `http://host:port` it listens on. */
  readonly url: string;
  /** Where the running job's parts are attached (app.ts `onRunning`); returns the detach. */
  readonly attach: (parts: RunningJobParts) => () => void;
  /** Recovery progress of a store partition (metrics). */
  recoveryProgress(progress: RecoveryProgress): void;
  /** Stop listening, wait for requests in progress, remove the address file. */
  close(): Promise<void>;
}

/** `host` as it goes in a URL (IPv6 in brackets). */
function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function buildServer(
  config: WeirConfig,
  job: RunningJobView,
  metrics: JobMetrics,
  backend: LogBackend,
  producer: () => Promise<LogProducer>,
  parser: ProduceParser,
): FastifyInstance {
  const { server: serverConfig } = config;
  const server = Fastify({ logger: false, bodyLimit: serverConfig.bodyLimit, return503OnClosing: true });
  server.removeAllContentTypeParsers();
  server.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  server.setErrorHandler((error, request, reply) => replyWithError(error as Error, request, reply, serverConfig.bodyLimit));
  server.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` } satisfies ErrorBody),
  );
  if (serverConfig.token !== undefined) {
    const authorized = bearerTokenChecker(serverConfig.token);
    server.addHook('onRequest', async (request, reply) => {
      if (OPEN_PATHS.has(request.url.split('?')[0]!)) return;
      if (!authorized(request.headers.authorization)) {
        return reply
          .code(401)
          .header('www-authenticate', 'Bearer')
          .send({ error: 'UNAUTHORIZED', message: 'missing or wrong bearer token (server.token)' } satisfies ErrorBody);
      }
      return undefined;
    });
  }
  registerHealthRoutes(server, job);
  server.get('/metrics', async (_request, reply) => {
    const { text, contentType } = await metrics.scrape();
    return reply.header('content-type', contentType).send(text);
  });
  registerQueryRoutes(server, job, config.appId);
  registerProduceRoute(server, job, { backend, producer, defaultPartitions: config.partitions, parser }, serverConfig);
  return server;
}

/**
 * Starts the job's server on `backend` and writes the address file.
 * Resolves once it listens.
 */
export async function startJobServer(config: WeirConfig, backend: LogBackend): Promise<JobServer> {
  const job = new RunningJobView();
  const metrics = new JobMetrics(config, job);
  let opened: Promise<LogProducer> | undefined;
  const producer = (): Promise<LogProducer> =>
    (opened ??= backend.producer().catch((error: unknown) => {
      opened = undefined; // the next request tries again
      throw error;
    }));
  const closeProducer = async (): Promise<void> => {
    if (opened !== undefined) await (await opened.catch(() => undefined))?.close();
  };
  const parser = new ProduceParser();
  const server = buildServer(config, job, metrics, backend, producer, parser);
  try {
    await server.listen({ host: config.server.host, port: config.server.port });
  } catch (error) {
    await server.close().catch(() => undefined);
    await parser.close();
    throw new ServerListenError(config.server.host, config.server.port, error);
  }
  const address = server.server.address() as AddressInfo;
  const url = `http://${urlHost(address.address)}:${address.port}`;
  const addressFile = addressFilePath(config);
  await writeAddressFile(addressFile, { url, pid: process.pid, appId: config.appId });
  return {
    url,
    attach(parts) {
      job.attach(parts);
      const unsubscribe = parts.checkpointer.onCheckpoint((result, seconds) => metrics.checkpointed(result, seconds));
      return () => {
        unsubscribe();
        job.detach();
      };
    },
    recoveryProgress: (progress) => metrics.recoveryProgress(progress),
    async close() {
      job.detach();
      await removeAddressFile(addressFile).catch(() => undefined);
      await server.close();
      await parser.close();
      await closeProducer();
    },
  };
}
