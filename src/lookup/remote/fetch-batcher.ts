/** The indicators fetched per listed value. */
export type Fetched<T> = Map<string, readonly T[]>;

interface Waiting<T> {
  values: readonly string[];
  limit: number;
  resolve: (m: Fetched<T>) => void;
  reject: (e: unknown) => void;
}

/**
 * Coalesces the store requests of concurrent lookups: at most `maxInflight` requests run at once;
 * the values asked for meanwhile wait and go together in the next request when one returns. Under
 * load the store sees one request per round trip carrying every value that arrived during it,
 * instead of one request per lookup; an idle lookup is sent at once.
 */
export class FetchBatcher<T> {
  private waiting: Waiting<T>[] = [];
  private inflight = 0;
  /** Requests sent and lookups they carried (a batch of one is a lone lookup). */
  requests = 0;
  carried = 0;

  constructor(
    private readonly run: (values: string[], limit: number) => Promise<Fetched<T>>,
    private readonly maxInflight: number,
  ) {}

  /** The lists of `values` (each request's `limit` adds to its batch's). */
  get(values: readonly string[], limit: number): Promise<Fetched<T>> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ values, limit, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    if (this.inflight >= this.maxInflight || this.waiting.length === 0) return;
    const batch = this.waiting;
    this.waiting = [];
    const values = new Set<string>();
    let limit = 0;
    for (const w of batch) {
      for (const v of w.values) values.add(v);
      limit += w.limit;
    }
    this.inflight++;
    this.requests++;
    this.carried += batch.length;
    this.run([...values], limit)
      .then(
        (m) => {
          for (const w of batch) w.resolve(m);
        },
        (e: unknown) => {
          for (const w of batch) w.reject(e);
        },
      )
      .finally(() => {
        this.inflight--;
        this.pump();
      });
  }
}
