import { isRecord } from '../core/guards.js';
/** The digests reconcile compares (src/delivery/reconcile.ts): canonical JSON of a projection. */

/** A canonical JSON of a projection (keys sorted, undefined left out). */
export function digestOf(value: unknown): string {
  return JSON.stringify(canonical(value));
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (isRecord(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = v[k];
      if (x !== undefined) out[k] = canonical(x);
    }
    return out;
  }
  return v;
}
