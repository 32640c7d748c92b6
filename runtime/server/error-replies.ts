/**
 * Every error answer of the server is JSON `{error, message, …context}`: `error` is the
 * weir error code (docs/errors.md) or a server one (`NOT_FOUND`, `BODY_TOO_LARGE`,
 * `UNAUTHORIZED`, `BUSY`), `message` what the CLI would print. Status codes: 400 bad
 * input (nothing was appended), 401 missing or wrong token, 404 unknown store or route,
 * 409 a conflict with the log (partition count), 413 body over the limit, 429 busy, 500
 * a failure of the job or the log, 503 not running yet.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { WeirError } from '../../shared/errors/weir-error.js';
import { InputLineError } from '../cli/cli-errors.js';
import { InvalidLogArgumentError, TopicPartitionCountMismatchError } from '../../shared/errors/log-errors.js';
import { QueryArgumentError, QueryNotAWindowStoreError, QueryStoreNotFoundError } from '../../shared/errors/server-errors.js';

/** The JSON body of an error answer. */
export interface ErrorBody {
  readonly error: string;
  readonly message: string;
  readonly [context: string]: unknown;
}

/** Status and body for a weir error. */
export function weirErrorReply(error: WeirError): { status: number; body: ErrorBody } {
  if (error instanceof InputLineError) {
    return { status: 400, body: { error: error.code, message: error.message, line: error.line, ...(error.field === undefined ? {} : { field: error.field }) } };
  }
  if (error instanceof QueryArgumentError) return { status: 400, body: { error: error.code, message: error.message, parameter: error.parameter } };
  if (error instanceof QueryNotAWindowStoreError) return { status: 400, body: { error: error.code, message: error.message, store: error.store } };
  if (error instanceof InvalidLogArgumentError) return { status: 400, body: { error: error.code, message: error.message, field: error.field } };
  if (error instanceof QueryStoreNotFoundError) return { status: 404, body: { error: error.code, message: error.message } };
  if (error instanceof TopicPartitionCountMismatchError) return { status: 409, body: { error: error.code, message: error.message } };
  return { status: 500, body: { error: error.code, message: error.message } };
}

/** Fastify's error handler: weir errors as above, fastify's own (body too large, bad content) by their status. */
export function replyWithError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply, bodyLimit: number): void {
  if (error instanceof WeirError) {
    const { status, body } = weirErrorReply(error);
    void reply.code(status).send(body);
    return;
  }
  const fastifyError = error as FastifyError;
  if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    void reply.code(413).send({
      error: 'BODY_TOO_LARGE',
      message: `request body over the limit of ${bodyLimit} bytes (server.bodyLimit); nothing was appended`,
      limit: bodyLimit,
    } satisfies ErrorBody);
    return;
  }
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    void reply.code(status).send({ error: fastifyError.code ?? 'BAD_REQUEST', message: fastifyError.message } satisfies ErrorBody);
    return;
  }
  request.log.error({ err: error }, 'request failed');
  void reply.code(500).send({ error: 'INTERNAL', message: error.message } satisfies ErrorBody);
}
