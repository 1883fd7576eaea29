import { isStixgateError, StixgateError } from '../core/errors.js';
import type { Store } from '../store/contract.js';

/**
 * Poison-document tracking: a document that keeps killing the process is skipped. A document source announces each document it is about to
 * map (`begin`, with a key naming its content) once it is downloaded whole; the attempt is written
 * to the store before a byte is mapped. A run that ends clears the attempts of its documents; a
 * run that fails on its input, or never ends (the process was killed, e.g. by the OOM killer on a
 * hostile document), leaves them counted. After POISON_AFTER counted attempts the same content is
 * quarantined: `begin` refuses it at once with STIXGATE_ERR_INPUT_POISON, without mapping it, so
 * the daemon does not loop on it; new content (another key) is read normally. Failures of the
 * store or a shutdown are not the document's fault and are not counted.
 */
export const POISON_AFTER = 3;
/** Documents tracked per source at most (the oldest entries are dropped). */
const MAX_TRACKED = 64;

export const poisonCursorName = (sourceId: string): string => `poison:${sourceId}`;

export interface DocumentGuard {
  /** Before mapping a document: counts the attempt durably, or throws when the content is quarantined. */
  begin(key: string): Promise<void>;
}

type Ledger = Record<string, number>;

function parse(text: string | undefined): Ledger {
  if (!text) return {};
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Ledger) : {};
  } catch {
    return {};
  }
}

/** Whether a failed run counts against the documents it began. */
export function countsAsDocumentFailure(error: unknown, aborted: boolean): boolean {
  if (aborted) return false;
  if (!isStixgateError(error)) return true; // a bug hit by this content: counted
  if (error.code === 'STIXGATE_ERR_INPUT_POISON') return false;
  return error.code.startsWith('STIXGATE_ERR_INPUT_');
}

/** The guard of one source run, and how the run settles its documents. */
export class RunDocuments implements DocumentGuard {
  private readonly begun = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly sourceId: string,
    private readonly onQuarantined?: (key: string, attempts: number) => void,
  ) {}

  async begin(key: string): Promise<void> {
    const name = poisonCursorName(this.sourceId);
    const ledger = parse(await this.store.getCursor(name));
    const attempts = ledger[key] ?? 0;
    if (attempts >= POISON_AFTER) {
      this.onQuarantined?.(key, attempts);
      throw new StixgateError(
        'STIXGATE_ERR_INPUT_POISON',
        `document ${key} quarantined: ${attempts} earlier attempts failed or did not finish; it is skipped until its content changes`,
        { reason: 'poison', location: { source: this.sourceId } },
      );
    }
    delete ledger[key];
    ledger[key] = attempts + 1;
    const keys = Object.keys(ledger);
    for (const k of keys.slice(0, Math.max(0, keys.length - MAX_TRACKED))) delete ledger[k];
    await this.store.setCursor(name, JSON.stringify(ledger));
    this.begun.add(key);
  }

  /** After the run: a finished run, or a failure that is not the documents' fault, clears their attempts. */
  async settle(error: unknown | undefined, aborted: boolean): Promise<void> {
    if (this.begun.size === 0) return;
    if (error !== undefined && countsAsDocumentFailure(error, aborted)) return;
    const name = poisonCursorName(this.sourceId);
    const ledger = parse(await this.store.getCursor(name));
    for (const k of this.begun) delete ledger[k];
    await this.store.setCursor(name, JSON.stringify(ledger));
  }
}
