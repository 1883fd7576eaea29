import { test } from 'node:test';
import assert from 'node:assert/strict';

/**
 * Negative contract cases of a strict simulator: each case sends what the vendor's product refuses
 * (or silently drops) and checks the vendor's status and error body. One `test()` per case, named
 * with the vendor source that CONTRACT.md cites, so a failing case points at the document.
 */
export interface StrictCase {
  /** What is refused, as CONTRACT.md's "Strict simulator" table names it. */
  name: string;
  /** The vendor document and section (or "no vendor source: …"). */
  source: string;
  send: (base: string) => Promise<Response>;
  status: number;
  /** Matched against the response body text. */
  body: RegExp;
}

/** Registers one test per case against a fresh simulator from `start` (closed after the case). */
export function strictCases(
  vendor: string,
  start: () => Promise<{ base: string; close: () => Promise<void> }>,
  cases: StrictCase[],
): void {
  for (const c of cases) {
    test(`${vendor} strict: ${c.name} (${c.source})`, async () => {
      const sim = await start();
      try {
        const res = await c.send(sim.base);
        const text = await res.text();
        assert.equal(res.status, c.status, text);
        assert.match(text, c.body);
      } finally {
        await sim.close();
      }
    });
  }
}

export const jsonBody = (v: unknown): { body: string; headers: Record<string, string> } => ({
  body: JSON.stringify(v),
  headers: { 'content-type': 'application/json' },
});
