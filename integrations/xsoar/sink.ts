import { at, first } from '../../src/core/indexed.js';
import type { CommonSinkConfig, Sink, SinkOutcome, SinkRecord, SinkRunContext } from '../../src/delivery/types.js';
import type { IntegrationContext } from '../../src/pipeline/types.js';
import { StixgateError } from '../../src/core/errors.js';
import { protocolError, valuesQuery, XsoarClient, type IocObject } from './client.js';
import { indicatorType, loadXsoarTable, xsoarFields, type XsoarTable } from './mapping.js';
import { editIndicators } from './edit.js';
import { XSOAR_MAX_SEARCH, type XsoarConfig } from './schema.js';
import { xsoarReconciler } from './reconcile.js';

/**
 * `xsoar`: one Cortex XSOAR indicator per observable value (XSOAR keys indicators on their value).
 * Upserts are `/indicators/feed/json` batches (≤ 2,000) under the sink's source brand, so a resend
 * gives the same end state; a batch the server refuses (400) is split in halves until the bad
 * records are found and rejected alone. With `pin_verdict` the verdict is then set manually with
 * `/indicator/edit` (version-checked, refetched on conflict). Removals look the values up;
 * an indicator only the sink's source brand contributed to and nobody edited by hand is deleted
 * with `/indicators/batchDelete` and `doNotWhitelist: true` (never put on the exclusion list); an
 * indicator shared with other sources or touched by an analyst keeps everything but the sink's
 * contribution, which is re-fed with verdict None and a one-minute expiration (docs/adr/0013-xsoar-removal.md).
 * Indicators that do not carry the sink's source brand are left alone.
 */

export type Verdict = 0 | 1 | 2 | 3;

export function verdictOf(score: number | null, v: XsoarConfig['verdict']): Verdict {
  if (score === null) return 0;
  if (score >= v.bad) return 3;
  if (score >= v.suspicious) return 2;
  if (typeof v.good_below === 'number' && score < v.good_below) return 1;
  return 0;
}

export interface FeedIndicator {
  value: string;
  type: string;
  score: Verdict;
  sourceBrand: string;
  sourceInstance: string;
  reliability?: string;
  expirationPolicy: 'never' | 'interval' | 'indicatorType';
  expirationInterval?: number;
  fields: Record<string, unknown>;
}

/** The feed indicator of a record, or the reason it cannot be sent. Pure (time from `now`). */
export function feedIndicator(
  r: SinkRecord,
  t: XsoarTable,
  c: XsoarConfig,
  now: number,
): FeedIndicator | { reject: string } {
  const type = indicatorType(t, r.observable);
  if (!type)
    return {
      reject: `no XSOAR indicator type for observable type ${r.observable.type}${r.observable.cidr ? ' (range)' : ''} in ${t.path}`,
    };
  const out: FeedIndicator = {
    value: r.observable.value,
    type,
    score: verdictOf(r.score, c.verdict),
    sourceBrand: c.source_brand,
    sourceInstance: c.source_instance,
    expirationPolicy: c.default_expiration,
    fields: xsoarFields(t, r.fields),
  };
  if (c.reliability) out.reliability = c.reliability;
  const until = typeof r.object.valid_until === 'string' ? Date.parse(r.object.valid_until) : NaN;
  if (Number.isFinite(until)) {
    out.expirationPolicy = 'interval';
    // minutes from now (XSOAR's unit); an indicator already past valid_until expires within a minute
    out.expirationInterval = Math.max(1, Math.ceil((until - now) / 60_000));
  }
  return out;
}

/**
 * True when the sink's source brand is the indicator's only contributor and nobody edited it by hand
 * (no manual verdict, no manually edited field, not in an investigation, no comments): the only
 * indicators a removal deletes.
 */
export function soleContribution(ioc: IocObject, brand: string): boolean {
  const brands = ioc.sourceBrands ?? [];
  const list = (k: string) => (Array.isArray(ioc[k]) ? (ioc[k] as unknown[]).length : 0);
  const comment = typeof ioc.comment === 'string' && ioc.comment !== '';
  return (
    brands.length === 1 &&
    brands[0] === brand &&
    ioc.manualScore !== true &&
    !comment &&
    list('manuallyEditedFields') === 0 &&
    list('investigationIDs') === 0 &&
    list('comments') === 0
  );
}

/** The feed indicator that withdraws the sink's contribution: verdict None, expiring within a minute, no fields. */
export function expiredContribution(ioc: IocObject, c: XsoarConfig): FeedIndicator {
  const out: FeedIndicator = {
    value: ioc.value,
    type: ioc.indicator_type ?? '',
    score: 0,
    sourceBrand: c.source_brand,
    sourceInstance: c.source_instance,
    expirationPolicy: 'interval',
    expirationInterval: 1,
    fields: {},
  };
  if (!ioc.indicator_type) delete (out as Partial<FeedIndicator>).type;
  if (c.reliability) out.reliability = c.reliability;
  return out;
}

export function createXsoarSink(config: XsoarConfig & CommonSinkConfig, ictx: IntegrationContext): Sink {
  if (config.version !== 6 && config.version !== 8)
    throw new StixgateError(
      'STIXGATE_ERR_CONFIG_INVALID',
      `xsoar sink: version must be 6 or 8, got ${config.version}`,
      { location: { path: 'version' } },
    );
  if (config.version === 8 && config.auth_id === undefined)
    throw new StixgateError('STIXGATE_ERR_CONFIG_INVALID', 'xsoar sink: version 8 needs auth_id (the API key ID)', {
      location: { path: 'auth_id' },
    });
  if (config.version === 8 && config.tenant !== undefined)
    throw new StixgateError(
      'STIXGATE_ERR_CONFIG_INVALID',
      'xsoar sink: tenant applies to XSOAR 6 multi-tenant servers only',
      { location: { path: 'tenant' } },
    );
  if (config.version === 6 && config.key_type === 'advanced')
    throw new StixgateError('STIXGATE_ERR_CONFIG_INVALID', 'xsoar sink: advanced API keys exist on XSOAR 8 only', {
      location: { path: 'key_type' },
    });
  if (config.verdict.suspicious > config.verdict.bad)
    throw new StixgateError(
      'STIXGATE_ERR_CONFIG_INVALID',
      `xsoar sink: verdict.suspicious (${config.verdict.suspicious}) must not exceed verdict.bad (${config.verdict.bad})`,
      { location: { path: 'verdict.suspicious' } },
    );
  const table = loadXsoarTable(config.mapping, ictx);
  const client = new XsoarClient({
    url: config.url,
    apiKey: config.api_key,
    version: config.version,
    authId: config.auth_id,
    keyType: config.key_type,
    tenant: config.tenant,
    apiPath: config.api_path,
  });
  const maxBatch = Math.min(config.max_batch_size, config.batch_size ?? config.max_batch_size);
  const chunk = Math.min(config.search_chunk, XSOAR_MAX_SEARCH);

  /** Sends items through feed/json; a refused (400) request is split until single bad items remain. */
  async function feed(
    ctx: SinkRunContext,
    items: { i: number; ind: FeedIndicator }[],
    out: SinkOutcome[],
  ): Promise<void> {
    if (items.length === 0) return;
    const r = await client.post(
      ctx,
      '/indicators/feed/json',
      { indicators: items.map((x) => x.ind), bypassExclusionList: config.bypass_exclusion_list },
      true,
    );
    if (r.status >= 200 && r.status < 300) {
      for (const x of items) out[x.i] = { status: 'ok' };
      return;
    }
    if (r.status === 404 && config.version === 8) {
      // the public v1 prefix is documented for incident and indicator calls, not shown for feed/json; demisto-py sends it under /xsoar
      throw protocolError(
        client.component,
        `/indicators/feed/json answered 404 under ${client.base}: set api_path (XSOAR 8 documents /xsoar/public/v1 for its public calls; the official demisto-py client sends feed/json under /xsoar)`,
      );
    }
    if (r.status !== 400 && r.status !== 422)
      throw protocolError(client.component, `/indicators/feed/json answered ${r.status}: ${r.detail}`);
    const only = items.length === 1 ? first(items) : undefined;
    if (only) {
      out[only.i] = {
        status: 'reject',
        reason: `XSOAR refused ${only.ind.type} ${only.ind.value}: ${r.detail}`,
      };
      return;
    }
    const half = Math.ceil(items.length / 2);
    await feed(ctx, items.slice(0, half), out);
    await feed(ctx, items.slice(half), out);
  }

  /** The indicators holding these values (matched case-insensitively), by lower-cased value. */
  async function lookup(ctx: SinkRunContext, values: string[]): Promise<Map<string, IocObject>> {
    const found = new Map<string, IocObject>();
    const uniq = [...new Set(values)];
    for (let k = 0; k < uniq.length; k += chunk) {
      const part = uniq.slice(k, k + chunk);
      const want = new Set(part.map((v) => v.toLowerCase()));
      const r = await client.search(ctx, valuesQuery(part), Math.min(XSOAR_MAX_SEARCH, part.length));
      for (const ioc of r.iocObjects) if (want.has(ioc.value.toLowerCase())) found.set(ioc.value.toLowerCase(), ioc);
    }
    return found;
  }

  return {
    limits: { maxBatch, concurrency: config.concurrency ?? 2 },

    async upsert(records: SinkRecord[], ctx: SinkRunContext): Promise<SinkOutcome[]> {
      const out: SinkOutcome[] = new Array(records.length);
      const items: { i: number; ind: FeedIndicator }[] = [];
      records.forEach((r, i) => {
        const ind = feedIndicator(r, table, config, ctx.now);
        if ('reject' in ind) out[i] = { status: 'reject', reason: ind.reject };
        else items.push({ i, ind });
      });
      const viaEdit = config.fields_via === 'edit';
      // fields_via: edit sends no fields through feed/json (its classifier may drop them) but writes them with /indicator/edit
      for (let k = 0; k < items.length; k += maxBatch)
        await feed(
          ctx,
          items.slice(k, k + maxBatch).map((x) => (viaEdit ? { ...x, ind: { ...x.ind, fields: {} } } : x)),
          out,
        );
      if (config.pin_verdict || viaEdit) {
        const sent = items.filter((x) => out[x.i]?.status === 'ok');
        const edits = sent.map((x) => ({
          value: x.ind.value,
          verdict: config.pin_verdict ? x.ind.score : undefined,
          fields: viaEdit ? x.ind.fields : undefined,
        }));
        const edited = await editIndicators(ctx, client, edits, lookup);
        for (const [k, x] of sent.entries()) out[x.i] = at(edited, k);
      }
      return out;
    },

    async remove(records: SinkRecord[], ctx: SinkRunContext): Promise<SinkOutcome[]> {
      const found = await lookup(
        ctx,
        records.map((r) => r.observable.value),
      );
      await withdraw(
        ctx,
        [...found.values()],
        [...new Set(records.map((r) => r.reason ?? 'removed'))].sort().join(', '),
      );
      // values absent from XSOAR (or never ours) are already where a removal wants them
      return records.map(() => ({ status: 'ok' }));
    },

    reconciler: xsoarReconciler({
      client,
      config,
      fields: table.fields,
      withdraw,
      feedIndicator: (r) => feedIndicator(r, table, config, 0),
      sole: (ioc) => soleContribution(ioc, config.source_brand),
    }),

    async probe(ctx: SinkRunContext): Promise<string> {
      const r = await client.search(ctx, `sourceBrands:"${config.source_brand.replace(/[\\"]/g, '\\$&')}"`, 1);
      return `XSOAR ${config.version} at ${client.base}: ${r.total} indicators from source brand ${config.source_brand}`;
    },
  };

  /**
   * Takes the sink's contribution out of these indicators: deleted when it is the only one and
   * nobody touched the indicator, else withdrawn (verdict None, expiring within a minute).
   * Indicators without the sink's source brand are left alone.
   */
  async function withdraw(ctx: SinkRunContext, found: IocObject[], reason: string): Promise<void> {
    const ours = found.filter((ioc) => (ioc.sourceBrands ?? []).includes(config.source_brand));
    const sole = ours.filter((ioc) => soleContribution(ioc, config.source_brand));
    const shared = ours.filter((ioc) => !soleContribution(ioc, config.source_brand));
    for (let k = 0; k < sole.length; k += maxBatch) {
      const body = {
        ids: sole.slice(k, k + maxBatch).map((ioc) => ioc.id),
        all: false,
        filter: {},
        doNotWhitelist: true,
        reason: `stixgate: ${reason}`,
        reputations: null,
      };
      const r = await client.post(ctx, '/indicators/batchDelete', body, true);
      if (r.status !== 200)
        throw protocolError(client.component, `/indicators/batchDelete answered ${r.status}: ${r.detail}`);
    }
    // shared or analyst-touched: withdraw only stixgate's contribution, as a feed integration does
    const expire = shared.map((ioc) => expiredContribution(ioc, config));
    for (let k = 0; k < expire.length; k += maxBatch) {
      const r = await client.post(
        ctx,
        '/indicators/feed/json',
        { indicators: expire.slice(k, k + maxBatch), bypassExclusionList: false },
        true,
      );
      if (r.status < 200 || r.status >= 300)
        throw protocolError(
          client.component,
          `/indicators/feed/json (expiring removed values) answered ${r.status}: ${r.detail}`,
        );
    }
  }
}
