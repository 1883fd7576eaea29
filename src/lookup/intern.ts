/**
 * Interned, reference-counted string lists (labels, source ids). Thousands of indicators share a
 * handful of distinct lists, so each indicator stores a small integer instead of an array.
 * Index 0 is the empty list.
 */
import { at } from '../core/indexed.js';
export class InternedLists {
  private readonly byKey = new Map<string, number>();
  private readonly lists: (readonly string[] | undefined)[] = [[]];
  private readonly refs: number[] = [0];
  private readonly free: number[] = [];

  /** The id of `list` (sorted, deduplicated by the caller), taking one reference. */
  acquire(list: readonly string[]): number {
    if (list.length === 0) return 0;
    const key = list.join('\u0000');
    let id = this.byKey.get(key);
    if (id === undefined) {
      id = this.free.pop() ?? this.lists.length;
      // flatten so the interned strings do not pin the buffers they were sliced from
      this.lists[id] = Object.freeze(list.map((x) => flatten(x)));
      this.refs[id] = 0;
      this.byKey.set(flatten(key), id);
    }
    this.refs[id] = at(this.refs, id) + 1;
    return id;
  }

  release(id: number): void {
    if (id === 0) return;
    const left = at(this.refs, id) - 1;
    this.refs[id] = left;
    if (left > 0) return;
    const list = this.lists[id];
    if (list) this.byKey.delete(list.join('\u0000'));
    this.lists[id] = undefined;
    this.free.push(id);
  }

  get(id: number): readonly string[] {
    return this.lists[id] ?? [];
  }

  /** Every list by id (undefined: a released id), its reference count, and the released ids: for the lookup snapshot. */
  dump(): { lists: readonly (readonly string[] | undefined)[]; refs: readonly number[]; free: readonly number[] } {
    return { lists: this.lists, refs: this.refs, free: this.free };
  }

  /** Replaces the contents with a snapshot's (as returned by `dump()`). */
  restore(lists: readonly (readonly string[] | undefined)[], refs: readonly number[], free: readonly number[]): void {
    this.byKey.clear();
    this.lists.length = 0;
    this.refs.length = 0;
    this.free.length = 0;
    for (let id = 0; id < lists.length; id++) {
      const list = lists[id];
      this.lists.push(list === undefined ? undefined : Object.freeze([...list]));
      this.refs.push(refs[id] ?? 0);
      if (list !== undefined && id > 0) this.byKey.set(list.join('\u0000'), id);
    }
    if (this.lists.length === 0) {
      this.lists.push([]);
      this.refs.push(0);
    }
    this.free.push(...free);
  }

  get size(): number {
    return this.byKey.size;
  }
}

/** A copy of `s` that owns its characters (not a slice or rope of a larger string). */
export function flatten(s: string): string {
  return s.length === 0 ? s : ` ${s}`.slice(1);
}
