import { backoffWindow } from '../../src/core/backoff.js';
import { StixgateError } from '../../src/core/errors.js';
import type { SinkOutcome, SinkRunContext } from '../../src/delivery/types.js';
import { domainError, filterString, pollSleep, qradarError, tenantError, type QradarClient } from './client.js';
import type { Chunker } from './chunker.js';
import { valueKey, type SetRoute } from './routing.js';
import { inPool, type PushItem, type SetApi } from './set-api.js';

/**
 * `reference_data_collections` (IBM's QRadar REST API documentation, API ≥ 16.0): sets by id, adds through the
 * asynchronous bulk update (PATCH set_entries → task → results, one response per entry), removals by
 * looking the entry ids up with a filter and deleting each entry.
 */

interface Task {
  id?: unknown;
  status?: unknown;
  error_message?: unknown;
}

interface Results {
  status?: unknown;
  responses?: { http_status?: unknown; message?: unknown; unique_code?: unknown }[];
}

const FAILED = new Set(['EXCEPTION', 'CANCELLED', 'CANCELING', 'CANCEL_REQUESTED', 'INTERRUPTED', 'CONFLICT']);
const MAX_FILTER_CHARS = 4000;
const NOTES_MAX = 4000;

export class CollectionSets implements SetApi {
  private ids = new Map<string, number>();

  constructor(
    private readonly client: QradarClient,
    private readonly o: {
      ttlDays?: number;
      deleteConcurrency: number;
      taskTimeoutMs: number;
      chunker: Chunker;
      domainId?: number;
      tenantId?: number;
    },
  ) {}

  async ensure(ctx: SinkRunContext, routes: SetRoute[]): Promise<void> {
    await this.lookup(
      ctx,
      routes.map((r) => r.name),
    );
    for (const r of routes) if (!this.ids.has(r.name)) await this.create(ctx, r);
  }

  private async lookup(ctx: SinkRunContext, names: string[]): Promise<void> {
    if (names.length === 0) return;
    const rows = await this.client.list<{ id?: unknown; name?: unknown }>(ctx, '/reference_data_collections/sets', {
      filter: `name in (${names.map(filterString).join(',')})`,
      fields: 'id,name,entry_type',
    });
    for (const s of rows) if (typeof s.id === 'number' && typeof s.name === 'string') this.ids.set(s.name, s.id);
  }

  private async create(ctx: SinkRunContext, r: SetRoute): Promise<void> {
    const c = { method: 'POST' as const, path: '/reference_data_collections/sets' };
    const body: Record<string, unknown> = {
      name: r.name,
      entry_type: r.elementType,
      expiry_type: this.o.ttlDays ? 'LAST_SEEN' : 'NO_EXPIRY',
      expired_log_option: 'LOG_NONE',
      description: `stixgate threat intelligence (${r.key})`,
    };
    if (this.o.ttlDays) body.time_to_live = this.o.ttlDays * 86_400;
    if (this.o.tenantId !== undefined) Object.assign(body, { namespace: 'TENANT', tenant_id: this.o.tenantId });
    const res = await this.client.call(ctx, { ...c, body, accept: [409, 422] });
    const e = qradarError(res.body);
    if (res.status === 422 && (e.code === 10003 || e.code === 10004))
      throw tenantError(this.client.component, this.o.tenantId, res.status, e);
    const id = (res.body as { id?: unknown } | undefined)?.id;
    if (res.status === 201 && typeof id === 'number') this.ids.set(r.name, id);
    else if (res.status === 409) await this.lookup(ctx, [r.name]);
    if (!this.ids.has(r.name)) throw this.client.unexpected(c, res);
  }

  private async idOf(ctx: SinkRunContext, r: SetRoute): Promise<number> {
    if (!this.ids.has(r.name)) await this.ensure(ctx, [r]);
    const id = this.ids.get(r.name);
    // ensure() throws when the collection could not be created or found
    if (id === undefined) throw new Error(`QRadar reference data collection ${r.name} has no id after ensure`);
    return id;
  }

  async add(ctx: SinkRunContext, route: SetRoute, items: PushItem[]): Promise<SinkOutcome[]> {
    const out: SinkOutcome[] = [];
    for (let i = 0; i < items.length; ) {
      const chunk = items.slice(i, i + this.o.chunker.size());
      out.push(...(await this.o.chunker.measure(chunk.length, () => this.bulk(ctx, route, chunk, true))));
      i += chunk.length;
    }
    return out;
  }

  private async bulk(
    ctx: SinkRunContext,
    route: SetRoute,
    items: PushItem[],
    mayCreate: boolean,
  ): Promise<SinkOutcome[]> {
    const id = await this.idOf(ctx, route);
    const entries = items.map((x) => {
      const e: Record<string, unknown> = { collection_id: id, value: x.value };
      if (this.o.domainId !== undefined) e.domain_id = this.o.domainId;
      if (typeof x.fields.source === 'string') e.source = x.fields.source.slice(0, 255);
      if (typeof x.fields.notes === 'string') e.notes = x.fields.notes.slice(0, NOTES_MAX);
      return e;
    });
    const c = { method: 'PATCH' as const, path: '/reference_data_collections/set_entries' };
    const res = await this.client.call(ctx, { ...c, body: entries, accept: [404, 413, 422] });
    const e = qradarError(res.body);
    if (res.status === 422 && e.code === 23000 && mayCreate) {
      this.ids.delete(route.name); // the set went away: find or create it again
      return this.bulk(ctx, route, items, false);
    }
    if (res.status === 413 && items.length > 1) {
      const half = Math.ceil(items.length / 2);
      return [
        ...(await this.bulk(ctx, route, items.slice(0, half), mayCreate)),
        ...(await this.bulk(ctx, route, items.slice(half), mayCreate)),
      ];
    }
    if (res.status === 413)
      return [{ status: 'reject', reason: `QRadar refused the entry as too large (413): ${e.message ?? ''}` }];
    if (res.status === 422 && e.code === 23005)
      throw domainError(this.client.component, this.o.domainId, res.status, e);
    const taskId = (res.body as Task | undefined)?.id;
    if (res.status !== 202 || typeof taskId !== 'number') throw this.client.unexpected(c, res);
    const results = await this.waitFor(ctx, taskId);
    return this.outcomes(ctx, route, id, items, results);
  }

  /** Polls the bulk task until it completes, then reads its results; throws (retryable) after the deadline. */
  private async waitFor(ctx: SinkRunContext, taskId: number): Promise<Results> {
    const deadline = Date.now() + this.o.taskTimeoutMs;
    const path = `/reference_data_collections/set_bulk_update_tasks/${taskId}`;
    // small consoles finish small tasks in milliseconds; the wait starts at 2 ms and doubles up to 2 s
    for (let attempt = 1; ; attempt++) {
      const delay = backoffWindow(attempt, 2, 2000);
      const t = await this.client.call(ctx, { method: 'GET', path });
      const status = String((t.body as Task | undefined)?.status ?? '');
      if (status === 'COMPLETED') {
        const r = await this.client.call(ctx, { method: 'GET', path: `${path}/results`, accept: [404] });
        if (r.status === 200) return r.body as Results;
      } else if (FAILED.has(status)) {
        const msg = (t.body as Task).error_message;
        throw new StixgateError(
          'STIXGATE_ERR_HTTP_STATUS',
          `${this.client.component}: bulk update task ${taskId} ended ${status}${typeof msg === 'string' && msg ? `: ${msg}` : ''}`,
          { reason: 'task_failed', retryable: true },
        );
      }
      if (Date.now() + delay > deadline) {
        throw new StixgateError(
          'STIXGATE_ERR_HTTP_TIMEOUT',
          `${this.client.component}: bulk update task ${taskId} still ${status || 'unknown'} after ${Math.round(this.o.taskTimeoutMs / 1000)} s (the batch is sent again; adds are idempotent)`,
          { reason: 'task_timeout', retryable: true },
        );
      }
      await pollSleep(delay, ctx.signal);
    }
  }

  private async outcomes(
    ctx: SinkRunContext,
    route: SetRoute,
    id: number,
    items: PushItem[],
    r: Results,
  ): Promise<SinkOutcome[]> {
    const responses = Array.isArray(r.responses) ? r.responses : [];
    if (responses.length === items.length) {
      return responses.map((x): SinkOutcome => {
        const status = typeof x.http_status === 'number' ? x.http_status : 0;
        const why = `QRadar bulk update of set "${route.name}": ${status} code ${String(x.unique_code ?? '?')}: ${String(x.message ?? '')}`;
        if (status >= 200 && status < 300) return { status: 'ok' };
        if (status === 429 || status >= 500 || status === 404) return { status: 'retry', reason: why };
        return { status: 'reject', reason: why };
      });
    }
    if (r.status === 'COMPLETE_UPDATE_PERFORMED') return items.map(() => ({ status: 'ok' }));
    // responses do not line up with the entries: ask the set which values it now holds
    const present = await this.find(
      ctx,
      route,
      id,
      items.map((x) => x.value),
    );
    return items.map(
      (x): SinkOutcome =>
        present.has(valueKey(route.elementType, x.value))
          ? { status: 'ok' }
          : {
              status: 'retry',
              reason: `QRadar bulk update of set "${route.name}" ended ${String(r.status)} without this value`,
            },
    );
  }

  /** Entry ids by value key, for the values the set holds. */
  private async find(
    ctx: SinkRunContext,
    route: SetRoute,
    id: number,
    values: string[],
  ): Promise<Map<string, number[]>> {
    const found = new Map<string, number[]>();
    let group: string[] = [];
    let len = 0;
    const flush = async () => {
      if (group.length === 0) return;
      const rows = await this.client.list<{ id?: unknown; value?: unknown }>(
        ctx,
        '/reference_data_collections/set_entries',
        {
          entry_type: route.elementType,
          filter: `collection_id=${id} and value in (${group.join(',')})`,
          fields: 'id,value',
        },
      );
      for (const row of rows) {
        if (typeof row.id !== 'number' || typeof row.value !== 'string') continue;
        const k = valueKey(route.elementType, row.value);
        found.set(k, [...(found.get(k) ?? []), row.id]);
      }
      group = [];
      len = 0;
    };
    for (const v of values) {
      const lit = filterString(v);
      if (len + lit.length > MAX_FILTER_CHARS) await flush();
      group.push(lit);
      len += lit.length + 1;
    }
    await flush();
    return found;
  }

  async remove(ctx: SinkRunContext, route: SetRoute, values: string[]): Promise<SinkOutcome[]> {
    if (!this.ids.has(route.name)) await this.lookup(ctx, [route.name]);
    const id = this.ids.get(route.name);
    if (id === undefined) return values.map(() => ({ status: 'ok' })); // no such set: nothing to remove
    const found = await this.find(ctx, route, id, values);
    const ids = [...new Set([...found.values()].flat())];
    await inPool(ids, this.o.deleteConcurrency, async (entry) => {
      const c = { method: 'DELETE' as const, path: `/reference_data_collections/set_entries/${entry}` };
      const res = await this.client.call(ctx, { ...c, accept: [404] });
      if (res.status !== 204 && res.status !== 200 && res.status !== 404) throw this.client.unexpected(c, res);
    });
    return values.map(() => ({ status: 'ok' }));
  }
}
