import type { FastifyInstance } from 'fastify';
import type { InferenceService } from '../../core/inference-service.js';

/**
 * Open Inference Protocol health: 200 with an empty body when true, 400 when false (as Triton and MLServer
 * answer). A false readiness carries `{"error": why}` so a person with curl sees the reason.
 */
export function registerHealthRoutes(app: FastifyInstance, service: InferenceService): void {
  app.get('/v2/health/live', async (_request, reply) => {
    if (service.live()) return reply.code(200).send();
    return reply.code(400).send({ error: 'the server is not live' });
  });

  app.get('/v2/health/ready', async (_request, reply) => {
    if (service.ready()) return reply.code(200).send();
    return reply.code(400).send({ error: service.notReadyReason() ?? 'not ready' });
  });
}
