import type { FastifyInstance } from 'fastify';
import type { Store } from '../store/contract.js';
import { sendError } from './errors.js';

export const READY_RETRY_AFTER_SECS = 5;

/** `/healthz`: the process answers. `/readyz`: the index is built and the store answers its ping. */
export function healthRoutes(app: FastifyInstance, o: { store: Store; isReady: () => boolean }): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (req, reply) => {
    let reason: string | undefined;
    if (!o.isReady()) reason = 'starting';
    else {
      try {
        await o.store.ping();
      } catch (err) {
        req.log.warn({ err }, 'readiness: store ping failed');
        reason = 'store unavailable';
      }
    }
    if (reason)
      return sendError(reply, 503, 'STIXGATE_ERR_API_UNAVAILABLE', `not ready: ${reason}`, {
        'retry-after': String(READY_RETRY_AFTER_SECS),
      });
    return { status: 'ready' };
  });
}
