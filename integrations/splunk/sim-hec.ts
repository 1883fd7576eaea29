import { group } from '../../src/core/indexed.js';
import type { SimResponse } from './sim-kv.js';

/**
 * HTTP Event Collector for the Splunk simulator: `/services/collector[/event][/1.0]`, `/raw`, `/ack`,
 * `/health`, with the status-code table of Splunk's HTTP Event Collector documentation and per-channel indexer acks.
 */

export interface HecToken {
  useAck?: boolean;
  /** Allowed indexes; empty or absent = any. */
  indexes?: string[];
  allowQueryStringAuth?: boolean;
  disabled?: boolean;
}

export interface HecEvent {
  token: string;
  channel?: string;
  ackId?: number;
  event: unknown;
  time?: number;
  host?: string;
  source?: string;
  sourcetype?: string;
  index?: string;
  fields?: Record<string, unknown>;
}

const TEXT: Record<number, [number, string]> = {
  0: [200, 'Success'],
  1: [403, 'Token disabled'],
  2: [401, 'Token is required'],
  3: [401, 'Invalid authorization'],
  4: [403, 'Invalid token'],
  5: [400, 'No data'],
  6: [400, 'Invalid data format'],
  7: [400, 'Incorrect index'],
  8: [500, 'Internal server error'],
  9: [503, 'Server is busy'],
  10: [400, 'Data channel is missing'],
  11: [400, 'Invalid data channel'],
  12: [400, 'Event field is required'],
  13: [400, 'Event field cannot be blank'],
  14: [400, 'ACK is disabled'],
  15: [400, 'Error in handling indexed fields'],
  16: [400, 'Query string authorization is not enabled'],
  17: [200, 'HEC is healthy'],
};

export function hecReply(code: number, extra: Record<string, unknown> = {}): SimResponse {
  const entry = TEXT[code];
  if (!entry) throw new RangeError(`HEC simulator: no reply text for code ${code}`);
  const [status, text] = entry;
  return { status, body: JSON.stringify({ text, code, ...extra }), type: 'application/json; charset=UTF-8' };
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Splits `{...}{...}` stacked JSON objects; returns the parsed objects and the index of the first bad one. */
export function splitStacked(s: string): { objects: unknown[]; bad?: number } {
  const objects: unknown[] = [];
  let i = 0;
  const n = s.length;
  while (true) {
    while (i < n && /\s/.test(s.charAt(i))) i++;
    if (i >= n) return { objects };
    if (s[i] !== '{') return { objects, bad: objects.length };
    let depth = 0;
    let inStr = false;
    let j = i;
    for (; j < n; j++) {
      const ch = s[j];
      if (inStr) {
        if (ch === '\\') j++;
        else if (ch === '"') inStr = false;
      } else if (ch === '"') inStr = true;
      else if (ch === '{' || ch === '[') depth++;
      else if (ch === '}' || ch === ']') {
        depth--;
        if (depth === 0) break;
      }
    }
    if (j >= n) return { objects, bad: objects.length };
    try {
      objects.push(JSON.parse(s.slice(i, j + 1)));
    } catch {
      return { objects, bad: objects.length };
    }
    i = j + 1;
  }
}

export class Hec {
  readonly events: HecEvent[] = [];
  /** channel -> ackId -> indexed? */
  readonly acks = new Map<string, Map<number, boolean>>();
  private nextAck = new Map<string, number>();
  /** When true, new ackIds stay false until releaseAcks(). */
  holdAcks = false;
  /** Ack queries answered so far; `onAckQuery` is called with the count after each answer is built. */
  ackQueries = 0;
  onAckQuery: ((n: number) => void) | undefined;

  constructor(
    readonly tokens: Map<string, HecToken>,
    readonly maxEventSize: number,
  ) {}

  /** Resolves the token from Authorization / ?token=; returns the token or an error reply. */
  auth(authz: string | undefined, q: URLSearchParams): { token: string; cfg: HecToken } | SimResponse {
    let token: string | undefined;
    if (authz) {
      const m = /^(Splunk|Basic)\s+(.+)$/i.exec(authz.trim());
      if (!m) return hecReply(3);
      if (group(m, 1).toLowerCase() === 'basic') {
        const dec = Buffer.from(group(m, 2), 'base64').toString('utf8');
        const colon = dec.indexOf(':');
        if (colon < 0) return hecReply(3);
        token = dec.slice(colon + 1);
      } else token = group(m, 2);
    } else if (q.get('token') !== null) {
      token = q.get('token') ?? '';
      const cfg = this.tokens.get(token);
      if (cfg && !cfg.allowQueryStringAuth) return hecReply(16);
    }
    if (!token) return hecReply(2);
    const cfg = this.tokens.get(token);
    if (!cfg) return hecReply(4);
    if (cfg.disabled) return hecReply(1);
    return { token, cfg };
  }

  private channel(
    cfg: HecToken,
    header: string | undefined,
    q: URLSearchParams,
    required: boolean,
  ): string | SimResponse | undefined {
    const ch = header ?? q.get('channel') ?? undefined;
    if (ch === undefined) return required || cfg.useAck ? hecReply(10) : undefined;
    if (!GUID.test(ch)) return hecReply(11);
    return ch;
  }

  private issueAck(channel: string): number {
    const id = this.nextAck.get(channel) ?? 0;
    this.nextAck.set(channel, id + 1);
    let m = this.acks.get(channel);
    if (!m) {
      m = new Map();
      this.acks.set(channel, m);
    }
    m.set(id, !this.holdAcks);
    return id;
  }

  releaseAcks(): void {
    for (const m of this.acks.values()) for (const k of m.keys()) m.set(k, true);
  }

  /** POST /services/collector/event. `partial` = number of events to accept before an injected failure. */
  event(
    token: string,
    cfg: HecToken,
    chHeader: string | undefined,
    q: URLSearchParams,
    raw: Buffer,
    partial?: number,
  ): SimResponse {
    const ch = this.channel(cfg, chHeader, q, false);
    if (ch !== undefined && typeof ch !== 'string') return ch;
    const text = raw.toString('utf8');
    if (text.trim() === '') return hecReply(5);
    const { objects, bad } = splitStacked(text);
    const accepted: HecEvent[] = [];
    let fail: SimResponse | undefined;
    for (const [i, o] of objects.entries()) {
      if (partial !== undefined && i >= partial) {
        fail = hecReply(9);
        break;
      }
      const e = o as Record<string, unknown>;
      if (!('event' in e)) {
        fail = hecReply(12, { 'invalid-event-number': i });
        break;
      }
      if (e.event === '' || e.event === null) {
        fail = hecReply(13, { 'invalid-event-number': i });
        break;
      }
      if (Buffer.byteLength(JSON.stringify(e)) > this.maxEventSize) {
        fail = hecReply(6, { 'invalid-event-number': i });
        break;
      }
      const index = e.index as string | undefined;
      if (index !== undefined && cfg.indexes && cfg.indexes.length > 0 && !cfg.indexes.includes(index)) {
        fail = hecReply(7, { 'invalid-event-number': i });
        break;
      }
      const fields = e.fields as Record<string, unknown> | undefined;
      if (
        fields !== undefined &&
        (typeof fields !== 'object' ||
          fields === null ||
          Array.isArray(fields) ||
          Object.values(fields).some(
            (v) => typeof v === 'object' && v !== null && !(Array.isArray(v) && v.every((x) => typeof x !== 'object')),
          ))
      ) {
        fail = hecReply(15, { 'invalid-event-number': i });
        break;
      }
      accepted.push({
        token,
        channel: ch,
        event: e.event,
        time: e.time === undefined ? undefined : Number(e.time),
        host: e.host as string | undefined,
        source: e.source as string | undefined,
        sourcetype: e.sourcetype as string | undefined,
        index,
        fields,
      });
    }
    if (!fail && bad !== undefined) fail = hecReply(6, { 'invalid-event-number': bad });
    // Splunk may already have indexed the events before the first bad one (§3.3).
    this.events.push(...accepted);
    if (fail) return fail;
    if (cfg.useAck && ch) {
      const ackId = this.issueAck(ch);
      for (const e of accepted) e.ackId = ackId;
      return hecReply(0, { ackId });
    }
    return hecReply(0);
  }

  /** POST /services/collector/raw: one event per line. */
  rawEvents(token: string, cfg: HecToken, chHeader: string | undefined, q: URLSearchParams, raw: Buffer): SimResponse {
    const ch = this.channel(cfg, chHeader, q, false);
    if (ch !== undefined && typeof ch !== 'string') return ch;
    const lines = raw
      .toString('utf8')
      .split('\n')
      .filter((l) => l.trim() !== '');
    if (lines.length === 0) return hecReply(5);
    const evs: HecEvent[] = lines.map((l) => ({
      token,
      channel: ch,
      event: l,
      index: q.get('index') ?? undefined,
      sourcetype: q.get('sourcetype') ?? undefined,
    }));
    this.events.push(...evs);
    if (cfg.useAck && ch) {
      const ackId = this.issueAck(ch);
      for (const e of evs) e.ackId = ackId;
      return hecReply(0, { ackId });
    }
    return hecReply(0);
  }

  /** POST /services/collector/ack {"acks":[...]}. */
  ack(cfg: HecToken, chHeader: string | undefined, q: URLSearchParams, raw: Buffer): SimResponse {
    if (!cfg.useAck) return hecReply(14);
    const ch = this.channel(cfg, chHeader, q, true);
    if (typeof ch !== 'string') return ch ?? hecReply(10);
    let ids: unknown;
    try {
      ids = (JSON.parse(raw.toString('utf8')) as { acks?: unknown }).acks;
    } catch {
      return hecReply(6);
    }
    if (!Array.isArray(ids)) return hecReply(6);
    const m = this.acks.get(ch);
    const out: Record<string, boolean> = {};
    for (const id of ids) out[String(id)] = m?.get(Number(id)) ?? false;
    this.onAckQuery?.(++this.ackQueries);
    return { status: 200, body: JSON.stringify({ acks: out }), type: 'application/json; charset=UTF-8' };
  }
}
