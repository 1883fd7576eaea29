/**
 * Aho-Corasick multi-pattern substring search over ASCII-case-folded UTF-16 code units: every
 * pattern occurring in a value is found in one pass, O(value length + matches), however many
 * patterns there are.
 */

function fold(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

/** Node numbers index `next` and `fail` (marked `!`): every one was created by `add` and is below `next.length`. */
export class AhoCorasick<T> {
  /** Per node: code unit → child node. */
  private readonly next: Map<number, number>[] = [new Map()];
  private fail: Int32Array = new Int32Array(1);
  /** Per node: the payloads of patterns ending here (own, then inherited through fail links). */
  private out: (T[] | undefined)[] = [undefined];
  private built = false;

  add(pattern: string, payload: T): void {
    if (this.built) throw new Error('AhoCorasick: add after build');
    if (pattern.length === 0) return;
    let node = 0;
    for (let i = 0; i < pattern.length; i++) {
      const c = fold(pattern.charCodeAt(i));
      let child = this.next[node]!.get(c);
      if (child === undefined) {
        child = this.next.length;
        this.next.push(new Map());
        this.out.push(undefined);
        this.next[node]!.set(c, child);
      }
      node = child;
    }
    const out = this.out[node] ?? [];
    out.push(payload);
    this.out[node] = out;
  }

  /** Computes failure links (breadth first); call once after the last add. */
  build(): void {
    this.fail = new Int32Array(this.next.length);
    const queue: number[] = [];
    for (const child of this.next[0]!.values()) queue.push(child);
    for (let qi = 0; qi < queue.length; qi++) {
      const node = queue[qi]!;
      for (const [c, child] of this.next[node]!) {
        let f = this.fail[node]!;
        while (f > 0 && !this.next[f]!.has(c)) f = this.fail[f]!;
        const target = this.next[f]!.get(c);
        this.fail[child] = target !== undefined && target !== child ? target : 0;
        const inherited = this.out[this.fail[child]];
        if (inherited) this.out[child] = [...(this.out[child] ?? []), ...inherited];
        queue.push(child);
      }
    }
    this.built = true;
  }

  get nodes(): number {
    return this.next.length;
  }

  /** Calls `visit` for every pattern occurrence; stops when it returns true. */
  search(text: string, visit: (payload: T) => boolean | undefined): void {
    if (!this.built) this.build();
    let node = 0;
    for (let i = 0; i < text.length; i++) {
      const c = fold(text.charCodeAt(i));
      for (;;) {
        const child = this.next[node]!.get(c);
        if (child !== undefined) {
          node = child;
          break;
        }
        if (node === 0) break;
        node = this.fail[node]!;
      }
      const out = this.out[node];
      if (out) for (const p of out) if (visit(p) === true) return;
    }
  }
}
