import type { FastifyInstance } from 'fastify';
import type { InferenceService } from '../../core/inference-service.js';

/**
 * Open Inference Protocol health: 200 when true, 400 when false (as Triton and MLServer answer). Triton's
 * clients read only the status; KServe's read the body (`{"live": true}`, `{"ready": true}`), so both
 * are given. A false readiness also carries `{"error": why}` so a person with curl sees the reason.
 */
export function registerHealthRoutes(app: FastifyInstance, service: InferenceService): void {
  app.get('/v2/health/live', async (_request, reply) => {
    if (service.live()) return reply.code(200).send({ live: true });
    return reply.code(400).send({ live: false, error: 'the server is not live' });
  });

  app.get('/v2/health/ready', async (_request, reply) => {
    if (service.ready()) return reply.code(200).send({ ready: true });
    return reply.code(400).send({ ready: false, error: service.notReadyReason() ?? 'not ready' });
  });
}
