import type { SinkOutcome, SinkRunContext } from '../../src/delivery/types.js';
import { domainError, encodePathValue, encodeSetName, qradarError, type QradarClient } from './client.js';
import type { Chunker } from './chunker.js';
import type { SetRoute } from './routing.js';
import type { PushItem, SetApi } from './set-api.js';
import { inPool } from './set-api.js';

/**
 * The legacy `reference_data/sets` API (IBM's QRadar REST API documentation): sets by name, adds by bulk_load (a JSON
 * array of values; `bulk_load/{name}` before API 26.0, `bulk_load/SHARED/{name}/{domain_id or SHARED}` from 26.0),
 * one DELETE per value with the value encoded twice (§5.7) and the set name once. Entries carry no
 * per-value fields. Sets take ALN, ALNIC, IP, NUM, PORT, DATE only: CIDR routes are not served here
 * (the sink rejects their values, naming reference_data_collections).
 */
export class LegacySets implements SetApi {
  private known = new Set<string>();

  constructor(
    private readonly client: QradarClient,
    private readonly o: { ttlDays?: number; deleteConcurrency: number; chunker: Chunker; domainId?: number },
  ) {}

  private get version(): number {
    return Number(this.client.version ?? '0');
  }

  async ensure(ctx: SinkRunContext, routes: SetRoute[]): Promise<void> {
    const have = await this.client.list<{ name?: unknown }>(ctx, '/reference_data/sets', {
      fields: 'name,element_type',
    });
    this.known = new Set(have.map((s) => String(s.name)));
    for (const r of routes) if (!this.known.has(r.name)) await this.create(ctx, r);
  }

  private async create(ctx: SinkRunContext, r: SetRoute): Promise<void> {
    const query: Record<string, string> = {
      name: r.name,
      element_type: r.elementType,
      timeout_type: this.o.ttlDays ? 'LAST_SEEN' : 'UNKNOWN',
    };
    if (this.o.ttlDays) query.time_to_live = `${this.o.ttlDays} days`;
    const c = { method: 'POST' as const, path: '/reference_data/sets' };
    const res = await this.client.call(ctx, { ...c, query, accept: [409] });
    if (res.status !== 201 && res.status !== 409) throw this.client.unexpected(c, res);
    this.known.add(r.name);
  }

  async add(ctx: SinkRunContext, route: SetRoute, items: PushItem[]): Promise<SinkOutcome[]> {
    const out: SinkOutcome[] = [];
    for (let i = 0; i < items.length; ) {
      const n = this.o.chunker.size();
      const chunk = items.slice(i, i + n);
      out.push(
        ...(await this.o.chunker.measure(chunk.length, () =>
          this.bulk(
            ctx,
            route,
            chunk.map((x) => x.value),
            true,
          ),
        )),
      );
      i += chunk.length;
    }
    return out;
  }

  private bulkPath(name: string): string {
    return this.version >= 26
      ? `/reference_data/sets/bulk_load/SHARED/${encodeSetName(name)}/${this.o.domainId ?? 'SHARED'}`
      : `/reference_data/sets/bulk_load/${encodeSetName(name)}`;
  }

  /** `domain_id` of the single-value add and the delete, when a domain is configured. */
  private get domainQuery(): Record<string, string> {
    return this.o.domainId === undefined ? {} : { domain_id: String(this.o.domainId) };
  }

  private async bulk(
    ctx: SinkRunContext,
    route: SetRoute,
    values: string[],
    mayCreate: boolean,
  ): Promise<SinkOutcome[]> {
    const c = { method: 'POST' as const, path: this.bulkPath(route.name) };
    const res = await this.client.call(ctx, { ...c, body: values, accept: [404, 413, 422] });
    const e = qradarError(res.body);
    if (res.status === 200) return values.map(() => ({ status: 'ok' }));
    if (res.status === 404 && e.code === 1002 && mayCreate) {
      await this.create(ctx, route); // deleted behind our back: recreate and load again
      return this.bulk(ctx, route, values, false);
    }
    if (res.status === 413 && values.length > 1) {
      const half = Math.ceil(values.length / 2);
      return [
        ...(await this.bulk(ctx, route, values.slice(0, half), mayCreate)),
        ...(await this.bulk(ctx, route, values.slice(half), mayCreate)),
      ];
    }
    if (res.status === 413)
      return [{ status: 'reject', reason: `QRadar refused the value as too large (413): ${e.message ?? ''}` }];
    if (res.status === 422 && e.code === 1005) return this.oneByOne(ctx, route, values); // a bad value refuses the whole load: find it
    if (res.status === 404 && e.code === 1011) throw domainError(this.client.component, this.o.domainId, res.status, e);
    throw this.client.unexpected(c, res);
  }

  /** Adds values one request each, so that each refused value gets its own outcome. */
  private oneByOne(ctx: SinkRunContext, route: SetRoute, values: string[]): Promise<SinkOutcome[]> {
    return inPool(values, this.o.deleteConcurrency, async (value): Promise<SinkOutcome> => {
      const c = { method: 'POST' as const, path: `/reference_data/sets/${encodeSetName(route.name)}` };
      const res = await this.client.call(ctx, { ...c, query: { value, ...this.domainQuery }, accept: [422] });
      if (res.status === 200) return { status: 'ok' };
      const e = qradarError(res.body);
      if (res.status === 422)
        return {
          status: 'reject',
          reason: `QRadar refused the value for set "${route.name}" (422 code ${e.code ?? '?'}): ${e.message ?? ''}`,
        };
      throw this.client.unexpected(c, res);
    });
  }

  async remove(ctx: SinkRunContext, route: SetRoute, values: string[]): Promise<SinkOutcome[]> {
    return inPool(values, this.o.deleteConcurrency, async (value): Promise<SinkOutcome> => {
      const c = {
        method: 'DELETE' as const,
        path: `/reference_data/sets/${encodeSetName(route.name)}/${encodePathValue(value)}`,
      };
      const res = await this.client.call(ctx, { ...c, query: this.domainQuery, accept: [404, 422] });
      const e = qradarError(res.body);
      if (res.status === 200) return { status: 'ok' };
      // 1003: not in the set; 1002: no such set — either way the value is not there (idempotent)
      if (res.status === 404 && (e.code === 1003 || e.code === 1002)) return { status: 'ok' };
      // 1005: not a valid value for the set's type, so the set cannot hold it
      if (res.status === 422 && e.code === 1005) return { status: 'ok' };
      if (res.status === 422)
        return {
          status: 'reject',
          reason: `QRadar refused the removal from set "${route.name}" (422 code ${e.code ?? '?'}): ${e.message ?? ''}`,
        };
      throw this.client.unexpected(c, res);
    });
  }
}
