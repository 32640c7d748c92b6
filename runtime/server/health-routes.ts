/**
 * `GET /healthz`: the process is alive and serving (always 200 while it answers).
 * `GET /readyz`: 200 once every assigned partition is recovered and the job processes;
 * 503 with the reason while starting, recovering, stopping or failed.
 */
import type { FastifyInstance } from 'fastify';
import type { RunningJobView } from './running-job.js';

export function registerHealthRoutes(server: FastifyInstance, job: RunningJobView): void {
  server.get('/healthz', async () => ({ status: 'ok' }));
  server.get('/readyz', async (_request, reply) => {
    const readiness = job.readiness();
    return reply.code(readiness.ready ? 200 : 503).send(readiness.ready ? { ready: true } : { ready: false, reason: readiness.reason });
  });
}
