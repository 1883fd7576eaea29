/** An object's state in the `objects` table (`state` column). */
export const STATE_ACTIVE = 0;
export const STATE_REVOKED = 1;
export const STATE_EXPIRED = 2;

/** A row of the `objects` table as the store and retention read it. */
export interface ObjectRow {
  rowid: number;
  id: string;
  type: string;
  state: number;
  obs: string | null;
  json: string;
  seq: number;
}
