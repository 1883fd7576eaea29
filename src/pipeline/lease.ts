import { errorMessage } from '../core/errors.js';
import type { Logger } from '../telemetry/logger.js';
import type { Store } from '../store/contract.js';

export interface LeaseOptions {
  store: Store;
  name: string;
  holder: string;
  ttlMs: number;
  now: () => number;
  logger: Logger;
  signal: AbortSignal;
  onHeldElsewhere: () => void;
}

/**
 * Runs a job only while this instance holds its lease in the store (on a shared store each
 * scheduled job runs on exactly one instance). The lease is renewed every third of
 * its TTL; losing it aborts the job before it commits another page. A holder that dies stops
 * renewing, and another instance takes the job over once the lease expires.
 */
export async function runWithLease(o: LeaseOptions, job: (signal: AbortSignal) => Promise<void>): Promise<void> {
  const { store, name, holder, ttlMs: ttl } = o;
  if (!(await store.acquireLease(name, holder, ttl, o.now()))) {
    o.onHeldElsewhere();
    return;
  }
  const ac = new AbortController();
  const onAbort = () => ac.abort(o.signal.reason);
  o.signal.addEventListener('abort', onAbort, { once: true });
  const renew = setInterval(
    () => {
      store.acquireLease(name, holder, ttl, o.now()).then(
        (held) => {
          if (!held) {
            o.logger.warn({ job: name }, 'lease lost to another instance; job aborted');
            ac.abort(new Error('lease lost'));
          }
        },
        (e) => {
          o.logger.warn({ job: name, err: errorMessage(e) }, 'lease renewal failed; job aborted');
          ac.abort(e);
        },
      );
    },
    Math.max(1000, Math.floor(ttl / 3)),
  );
  try {
    await job(ac.signal);
  } finally {
    clearInterval(renew);
    o.signal.removeEventListener('abort', onAbort);
    await store.releaseLease(name, holder).catch(() => undefined);
  }
}
