/**
 * What every fuzz case must satisfy (issue 18, FAULTS X7, §c "Fuzzing"):
 * - no crash: the mapper returns objects and rejections, or throws a typed StixgateError;
 * - bounded output: objects and their serialised size are linear in the input size;
 * - every emitted object passes our own STIX checks (src/core/stix-check.ts checkObject) and
 *   the value gate (src/core/value-gate.ts, validity only);
 * - the prototype canary: Object/Array/Function.prototype property counts unchanged.
 */
import { isStixgateError } from '../../src/core/errors.js';
import type { Rejection } from '../../src/core/errors.js';
import type { StixObject } from '../../src/core/stix.js';
import { objectValueProblem, VALIDITY_POLICY } from '../../src/core/value-gate.js';
import { checkObject } from '../../src/core/stix-check.js';

export interface MapOutcome {
  objects: StixObject[];
  rejections: Rejection[];
}

export interface CaseResult {
  objects: number;
  rejections: number;
  /** The typed error the mapper threw (a rejected document), if any. */
  error?: string;
}

/** Objects per input byte, plus a constant (a one-line list makes one indicator). */
const MAX_OBJECTS_PER_BYTE = 1;
const MAX_OUTPUT_BYTES_PER_INPUT_BYTE = 64;
const OUTPUT_SLACK = 64 * 1024;

function protoCounts(): [number, number, number] {
  return [
    Object.getOwnPropertyNames(Object.prototype).length,
    Object.getOwnPropertyNames(Array.prototype).length,
    Object.getOwnPropertyNames(Function.prototype).length,
  ];
}

export const PROTO_BASELINE = protoCounts();

export class InvariantError extends Error {
  constructor(
    message: string,
    readonly input: string,
  ) {
    super(message);
    this.name = 'InvariantError';
  }
}

/** Checks one case's outcome; throws InvariantError naming the broken invariant. */
export function checkOutcome(input: string, run: () => Promise<MapOutcome>): Promise<CaseResult> {
  return run().then(
    (out) => {
      canary(input);
      const inputBytes = Buffer.byteLength(input);
      if (out.objects.length > inputBytes * MAX_OBJECTS_PER_BYTE + 16) {
        throw new InvariantError(`unbounded output: ${out.objects.length} objects from ${inputBytes} bytes`, input);
      }
      let bytes = 0;
      for (const o of out.objects) {
        const json = JSON.stringify(o);
        bytes += json.length;
        const c = checkObject(JSON.parse(json));
        if (!c.ok)
          throw new InvariantError(
            `emitted object fails the STIX checks (${c.reason}: ${c.message}): ${json.slice(0, 300)}`,
            input,
          );
        const v = objectValueProblem(o, VALIDITY_POLICY);
        if (v)
          throw new InvariantError(
            `emitted object fails the value gate (${v.reason}: ${v.message}): ${json.slice(0, 300)}`,
            input,
          );
      }
      if (bytes > inputBytes * MAX_OUTPUT_BYTES_PER_INPUT_BYTE + OUTPUT_SLACK)
        throw new InvariantError(`unbounded output: ${bytes} bytes from ${inputBytes}`, input);
      for (const r of out.rejections) {
        if (typeof r.reason !== 'string' || r.reason === '' || typeof r.message !== 'string')
          throw new InvariantError(`rejection without reason or message: ${JSON.stringify(r)}`, input);
      }
      return { objects: out.objects.length, rejections: out.rejections.length };
    },
    (e: unknown) => {
      canary(input);
      if (isStixgateError(e)) return { objects: 0, rejections: 0, error: e.reason };
      throw new InvariantError(
        `crash (untyped error): ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e)}`,
        input,
      );
    },
  );
}

function canary(input: string): void {
  const now = protoCounts();
  if (now.some((n, i) => n !== PROTO_BASELINE[i]))
    throw new InvariantError(`prototype changed: ${PROTO_BASELINE.join('/')} → ${now.join('/')}`, input);
}
