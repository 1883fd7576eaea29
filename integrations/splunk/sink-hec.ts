import { at, first } from '../../src/core/indexed.js';
import { createHash, randomUUID } from 'node:crypto';
import { StixgateError } from '../../src/core/errors.js';
import { abortableSleep } from '../../src/core/backoff.js';
import type { CommonSinkConfig, Sink, SinkOutcome, SinkRecord, SinkRunContext } from '../../src/delivery/types.js';
import type { IntegrationContext } from '../../src/pipeline/types.js';
import { authError, protocolError } from './client.js';
import { indexedFields, loadTable } from './mapping.js';
import type { SplunkHecConfig } from './schema.js';

/**
 * `splunk_hec`: indicator changes as events through the HTTP Event Collector.
 * HEC only appends: an upsert is an event with `action: "upsert"`, a removal one with
 * `action: "remove"` (searches keep the latest event per `key`). Every event carries `event_id`,
 * a hash of key, change sequence and action, so the copies that at-least-once delivery can
 * produce are recognisable. With `use_ack`, events count as delivered only once the indexers
 * acknowledged their request; requests still unacknowledged after `ack_timeout_secs` come back as
 * `retry` outcomes and are sent again.
 */

interface HecReply {
  text?: string;
  code?: number;
  ackId?: number;
  'invalid-event-number'?: number;
}

/** Codes naming one event of the request (`invalid-event-number`): that event is rejected, the rest resent. */
const EVENT_CODES = new Set([6, 12, 13, 15]);
/** The `time` member prepended to each cached event (`{"time":1234567890.123,`). */
const TIME_BYTES = 26;

export function eventId(r: SinkRecord): string {
  return createHash('sha1').update(`${r.key}:${r.seq}:${r.op}`).digest('hex');
}

export function createSplunkHecSink(config: SplunkHecConfig & CommonSinkConfig, ictx: IntegrationContext): Sink {
  const table = loadTable('splunk_hec', config.mapping, ictx);
  const indexed = indexedFields(table);
  const base = config.url.replace(/\/+$/, '').replace(/\/services\/collector(\/event|\/raw)?(\/1\.0)?$/, '');
  const component = `splunk_hec ${new URL(base).host}`;
  const channel = randomUUID();
  const authz = `Splunk ${config.token}`;
  const limits = {
    maxBatch: config.max_events_per_request,
    maxBytes: config.max_request_bytes,
    concurrency: config.concurrency ?? 4,
  };
  const ackTimeoutMs = config.ack_timeout_secs * 1000;
  let unacked = 0;
  const cache = new WeakMap<SinkRecord, string>();

  /** The event without `time`, serialised once. */
  const bodyOf = (r: SinkRecord): string => {
    const s = cache.get(r);
    if (s !== undefined) return s;
    const env: Record<string, unknown> = { source: config.source, sourcetype: config.sourcetype };
    if (config.index !== undefined) env.index = config.index;
    if (config.host !== undefined) env.host = config.host;
    env.event = {
      event_id: eventId(r),
      action: r.op,
      ...(r.reason !== undefined ? { reason: r.reason } : {}),
      key: r.key,
      ...r.fields,
    };
    if (indexed.length) {
      const f: Record<string, string | string[]> = {};
      for (const n of indexed) {
        const v = r.fields[n];
        if (v !== undefined && v !== null) f[n] = Array.isArray(v) ? v.map(String) : String(v);
      }
      env.fields = f;
    }
    const json = JSON.stringify(env);
    cache.set(r, json);
    return json;
  };
  const eventOf = (r: SinkRecord, timeSecs: string): string => `{"time":${timeSecs},${bodyOf(r).slice(1)}`;

  const post = async (
    ctx: SinkRunContext,
    path: string,
    body: string,
    ok: number[],
    idempotent: boolean,
  ): Promise<{ status: number; reply: HecReply }> => {
    const headers: Record<string, string> = { authorization: authz, 'content-type': 'application/json' };
    if (config.use_ack) headers['x-splunk-request-channel'] = channel;
    const res = await ctx.http.request({
      url: `${base}${path}`,
      method: 'POST',
      headers,
      body,
      okStatuses: [...ok, 401, 403],
      idempotent,
      signal: ctx.signal,
    });
    const text = await res.text();
    let reply: HecReply;
    try {
      reply = JSON.parse(text) as HecReply;
    } catch {
      throw protocolError(component, `${path} answered ${res.status} with a body that is not JSON`);
    }
    if (res.status === 401 || res.status === 403)
      throw authError(component, res.status, `HEC code ${reply.code}: ${reply.text}`);
    return { status: res.status, reply };
  };

  /** Sends the events of `idx`; fills `out` for rejected/delivered ones and returns the ack waits. */
  async function send(
    ctx: SinkRunContext,
    records: SinkRecord[],
    idx: number[],
    out: SinkOutcome[],
    acks: { id: number; idx: number[] }[],
  ): Promise<void> {
    const time = (ctx.now / 1000).toFixed(3);
    let pending = idx;
    while (pending.length > 0) {
      const body = pending.map((i) => eventOf(at(records, i), time)).join('');
      const { status, reply } = await post(ctx, '/services/collector/event', body, [400, 413], false);
      if (status === 413) {
        if (pending.length === 1) {
          out[first(pending)] = { status: 'reject', reason: 'HEC refused the event as too large (413)' };
          return;
        }
        const mid = Math.ceil(pending.length / 2);
        await send(ctx, records, pending.slice(0, mid), out, acks);
        await send(ctx, records, pending.slice(mid), out, acks);
        return;
      }
      if (status === 400) {
        const n = reply['invalid-event-number'];
        if (
          reply.code !== undefined &&
          EVENT_CODES.has(reply.code) &&
          typeof n === 'number' &&
          Number.isInteger(n) &&
          n >= 0 &&
          n < pending.length
        ) {
          out[at(pending, n)] = {
            status: 'reject',
            reason: `HEC refused the event (code ${reply.code}: ${reply.text})`,
          };
          // events before it may or may not be indexed: they are sent again (duplicates keep their event_id)
          pending = pending.filter((_, j) => j !== n);
          continue;
        }
        if (reply.code === 7) {
          throw new StixgateError(
            'STIXGATE_ERR_CONFIG_INVALID',
            `${component}: the HEC token may not write to index ${config.index ?? '(default)'} (code 7: ${reply.text})`,
            { reason: 'hec_index' },
          );
        }
        throw protocolError(component, `HEC answered 400 code ${reply.code}: ${reply.text}`);
      }
      if (config.use_ack && typeof reply.ackId === 'number') acks.push({ id: reply.ackId, idx: pending });
      else for (const i of pending) out[i] = { status: 'ok' };
      return;
    }
  }

  /** Polls `/services/collector/ack` until every request is acknowledged or the TTL passes. */
  async function awaitAcks(
    ctx: SinkRunContext,
    acks: { id: number; idx: number[] }[],
    out: SinkOutcome[],
  ): Promise<void> {
    let waiting = acks.reduce((n, a) => n + a.idx.length, 0);
    unacked += waiting;
    ctx.gauge?.('unacked', unacked);
    const deadline = performance.now() + ackTimeoutMs;
    try {
      // at least one poll, even when the deadline passed before it (a slow or loaded host): events
      // the indexers acknowledged meanwhile are not sent again
      for (let first = true; acks.length > 0 && (first || performance.now() < deadline); first = false) {
        await abortableSleep(
          Math.min(config.ack_poll_interval_ms, Math.max(1, deadline - performance.now())),
          ctx.signal,
        );
        const { status, reply } = await post(
          ctx,
          '/services/collector/ack',
          JSON.stringify({ acks: acks.map((a) => a.id) }),
          [400],
          true,
        );
        if (status === 400)
          throw protocolError(
            component,
            `ack query refused (code ${reply.code}: ${reply.text}); does the token have indexer acknowledgement enabled?`,
          );
        const done = (reply as { acks?: Record<string, boolean> }).acks ?? {};
        for (let k = acks.length - 1; k >= 0; k--) {
          const a = at(acks, k);
          if (done[String(a.id)] !== true) continue;
          for (const i of a.idx) out[i] = { status: 'ok' };
          acks.splice(k, 1);
          waiting -= a.idx.length;
          unacked -= a.idx.length;
        }
        ctx.gauge?.('unacked', unacked);
      }
      for (const a of acks)
        for (const i of a.idx)
          out[i] = {
            status: 'retry',
            reason: `not acknowledged by the indexers within ${config.ack_timeout_secs} s (ackId ${a.id})`,
          };
    } finally {
      unacked -= waiting;
      ctx.gauge?.('unacked', unacked);
    }
  }

  async function deliver(records: SinkRecord[], ctx: SinkRunContext): Promise<SinkOutcome[]> {
    const out: SinkOutcome[] = new Array(records.length);
    const idx: number[] = [];
    records.forEach((r, i) => {
      const size = Buffer.byteLength(bodyOf(r)) + TIME_BYTES;
      if (size > config.max_event_bytes)
        out[i] = {
          status: 'reject',
          reason: `event of ${size} bytes exceeds max_event_bytes (${config.max_event_bytes})`,
        };
      else idx.push(i);
    });
    const acks: { id: number; idx: number[] }[] = [];
    // requests within the byte and count limits (the engine batches so; this guards direct callers)
    let from = 0;
    let bytes = 0;
    for (let k = 0; k <= idx.length; k++) {
      const size = k < idx.length ? Buffer.byteLength(bodyOf(at(records, at(idx, k)))) + TIME_BYTES : 0;
      if (k === idx.length || (k > from && (k - from >= limits.maxBatch || bytes + size > limits.maxBytes))) {
        if (k > from) await send(ctx, records, idx.slice(from, k), out, acks);
        from = k;
        bytes = 0;
      }
      bytes += size;
    }
    if (acks.length > 0) await awaitAcks(ctx, acks, out);
    return out;
  }

  return {
    limits,
    unreadable:
      'the HTTP Event Collector is write-only: events sent to it cannot be read back through it (reconcile a splunk_kv or splunk_es sink instead)',
    sizeOf: (r) => Buffer.byteLength(bodyOf(r)) + TIME_BYTES,
    upsert: deliver,
    remove: deliver,
    async probe(ctx: SinkRunContext): Promise<string> {
      const res = await ctx.http.request({
        url: `${base}/services/collector/health`,
        okStatuses: [400, 503],
        signal: ctx.signal,
      });
      const text = await res.text();
      let reply: HecReply = {};
      try {
        reply = JSON.parse(text) as HecReply;
      } catch {
        /* reported below */
      }
      return `HEC ${res.status}: ${reply.text ?? text.slice(0, 100)}${config.use_ack ? ' (indexer acknowledgement on)' : ''}`;
    },
  };
}
