/**
 * A budget of produced nodes for one document (bounded work): mappers that follow
 * references (STIX 1.x idrefs, nested OpenIOC indicators) spend one unit per node they build, so
 * a crafted document whose references fan out (an idref "diamond" doubles the work per level)
 * stops at the budget with a typed error instead of exhausting memory. The limit is linear in the
 * document's size, so legitimate documents of any size fit.
 */
import { StixgateError, type Location } from './errors.js';

/** Units allowed per element of the document, and the floor for small documents. */
export const BUDGET_PER_ELEMENT = 16;
export const BUDGET_FLOOR = 100_000;

export class WorkBudget {
  /** Units spent so far (an operation count tests can assert). */
  spent = 0;

  constructor(
    readonly limit: number,
    private readonly what: string,
    private readonly location: Location = {},
  ) {}

  /** A budget linear in the number of elements of the document. */
  static forElements(elements: number, what: string, location: Location = {}): WorkBudget {
    return new WorkBudget(Math.max(BUDGET_FLOOR, elements * BUDGET_PER_ELEMENT), what, location);
  }

  /** Spends `n` units; throws STIXGATE_ERR_INPUT_TOO_COMPLEX (reason `too_complex`) past the limit. */
  spend(n = 1): void {
    this.spent += n;
    if (this.spent > this.limit) {
      throw new StixgateError(
        'STIXGATE_ERR_INPUT_TOO_COMPLEX',
        `${this.what} needs more than ${this.limit} nodes (references fan out); document rejected`,
        {
          reason: 'too_complex',
          location: this.location,
        },
      );
    }
  }
}
