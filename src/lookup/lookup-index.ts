import { detectObservable, parseIpv4, parseIpv6 } from '../core/observable.js';
import { formatIpv4 } from '../core/ip-address.js';
import { parseCidr } from '../core/cidr.js';
import { indicatorObservables } from '../core/object-observables.js';
import {
  TLP_LEVELS,
  isIndicator,
  tlpOfRank,
  tlpRank,
  type Indicator,
  type Observable,
  type StixObject,
  type TlpLevel,
} from '../core/stix.js';
import { DEFAULT_POLICY, tlpSpan, type AccessPolicy } from '../access/policy.js';
import { viewWithTlp } from '../access/view.js';
import type { ActiveIndicator, Change } from '../store/contract.js';
import { Ipv4Ranges, Ipv6Ranges } from './cidr.js';
import { InternedLists, flatten } from './intern.js';
import { addPosting, removePosting, type Posting } from './postings.js';
import { ShardedMap } from '../core/sharded-map.js';
import { SlotTable } from './slots.js';
import { DomainFilter, HASH_SEED, step } from './domain-filter.js';
import { Collector, fastCanonical } from './collector.js';
import { summariseSources, type SourceSummary } from './summary.js';
import type { IndexSizes, IndicatorMatch, LookupIndexOptions, LookupResult, MatchKind } from './types.js';

/** Which structure a listed value lives in. */
// biome-ignore lint/suspicious/noConstEnum: file-local and never exported, so tsc and esbuild both inline its members
const enum K {
  Ipv4 = 0,
  Ipv6 = 1,
  Ipv4Cidr = 2,
  Ipv6Cidr = 3,
  Domain = 4,
  Url = 5,
  Email = 6,
  Hash = 7,
}

/** What list() needs of an observable. */
type Listable = Pick<Observable, 'type' | 'value'>;

/** A listing of one slot: kind, key, prefix length (CIDRs only). */
export type Ref = [number, string | number, number];

/** What the lookup snapshot reads and fills back (LookupIndex.parts()). */
export interface IndexParts {
  slots: SlotTable;
  lists: InternedLists;
  /** The string-keyed exact-value maps, each with its listing kind. */
  exact: [number, ShardedMap<string, Posting>][];
  ipv4: ShardedMap<number, Posting>;
  kinds: { ipv4: number; ipv4Cidr: number; ipv6Cidr: number; multi: number };
  v4Ranges: Ipv4Ranges;
  v6Ranges: Ipv6Ranges;
  domainFilter: DomainFilter;
  mixed: ShardedMap<number, { obj: StixObject; high: number }>;
  policy: AccessPolicy;
}

const MULTI = 255;
/** The host of a canonical URL (an IPv6 host keeps its brackets). */
export const URL_HOST_RE = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(\[[0-9a-f:.]+\]|[^:/?#]*)/;

/**
 * The in-memory lookup index: active indicators keyed by the canonical observable values their
 * patterns match. Exact values live in Maps, CIDRs in per-prefix-length Maps, domains in a Map
 * probed for a URL's host and (optionally) a host's parent domains. Per-indicator data lives in
 * typed-array columns (see SlotTable).
 */
export class LookupIndex {
  /** The change-log sequence of the last change applied. */
  seq = 0;
  private readonly clock: () => number;
  private readonly matchParents: boolean;
  private readonly access: AccessPolicy;
  /**
   * Indicators whose contributions differ in TLP (few: one value listed by sources of different
   * levels), kept whole so that a reader below the strictest sees only its contributions. The
   * slot's TLP column holds the least restrictive contribution (who sees the indicator at all).
   */
  private readonly mixed: ShardedMap<number, { obj: StixObject; high: number }>;
  private readonly maxMatches: number;
  private readonly slots: SlotTable;
  private readonly lists = new InternedLists();
  // every map keyed per value is sharded: one JavaScript Map holds at most 2^24 entries
  private readonly ipv4: ShardedMap<number, Posting>;
  private readonly ipv6: ShardedMap<string, Posting>;
  private readonly v4Ranges: Ipv4Ranges;
  private readonly v6Ranges: Ipv6Ranges;
  private readonly domains: ShardedMap<string, Posting>;
  private readonly domainFilter = new DomainFilter(() => this.domains);
  private readonly urls: ShardedMap<string, Posting>;
  private readonly emails: ShardedMap<string, Posting>;
  private readonly hashes: ShardedMap<string, Posting>;
  /** Timestamps cluster (one feed poll stamps many indicators), so their ISO text is memoised. */
  private readonly isoCache = new Map<number, string>();
  private lastTimeText: unknown = undefined;
  private lastTimeMs = Number.NaN;

  /** `initialSlots`: the slot table's first capacity (a small index of a few fetched indicators needs few). */
  constructor(opts: LookupIndexOptions & { now?: () => number; initialSlots?: number } = {}) {
    this.slots = new SlotTable(opts.initialSlots);
    this.clock = opts.now ?? Date.now;
    this.matchParents = opts.matchParentDomains ?? true;
    this.access = opts.access ?? DEFAULT_POLICY;
    this.maxMatches = opts.maxMatchesPerValue ?? 100;
    const limit = opts.mapShardLimit;
    this.ipv4 = new ShardedMap(limit);
    this.ipv6 = new ShardedMap(limit);
    this.v4Ranges = new Ipv4Ranges(limit);
    this.v6Ranges = new Ipv6Ranges(limit);
    this.domains = new ShardedMap(limit);
    this.urls = new ShardedMap(limit);
    this.emails = new ShardedMap(limit);
    this.hashes = new ShardedMap(limit);
    this.mixed = new ShardedMap(limit);
  }

  /** Applies one change-log entry: an upsert (re)lists an active indicator; anything else unlists it. */
  apply(change: Change): void {
    if (change.seq > this.seq) this.seq = change.seq;
    if (change.type !== 'indicator') return;
    const existing = this.slots.find(change.id);
    if (existing >= 0) this.unlist(existing);
    if (change.op === 'upsert' && isIndicator(change.object)) this.add(change.id, change.object, null);
  }

  /**
   * Applies an active indicator read at start-up (the same as apply() of its upsert), listing it
   * under the observables the store kept for its pattern instead of parsing the pattern again.
   */
  load(entry: ActiveIndicator): void {
    if (entry.seq > this.seq) this.seq = entry.seq;
    const existing = this.slots.find(entry.id);
    if (existing >= 0) this.unlist(existing);
    if (isIndicator(entry.object)) this.add(entry.id, entry.object, entry.observables);
  }

  private add(id: string, obj: Indicator, stored: readonly Listable[] | null): void {
    if (!this.isActive(obj)) return;
    const observables = stored ?? indicatorObservables(obj);
    if (observables.length === 0) return;
    const slot = this.slots.allocate(id);
    this.describe(slot, obj);
    this.list(slot, observables);
  }

  /** Removes indicators whose `valid_until` has passed. Returns how many were removed. */
  sweep(now: number = this.clock()): number {
    const t = this.slots;
    let removed = 0;
    for (let s = 0; s < t.end; s++) {
      if (t.used(s) && t.validUntil(s) <= now) {
        this.unlist(s);
        removed++;
      }
    }
    return removed;
  }

  /** Looks up one raw value (refanged and canonicalised first). Indicators above `maxTlp` are left out. */
  lookup(raw: string, now: number = this.clock(), maxTlp: TlpLevel = 'amber'): LookupResult {
    let obs = fastCanonical(raw);
    if (obs === undefined) {
      const d = detectObservable(raw);
      if (!d.ok) return { value: raw, matched: false, invalid: d.reason, indicators: [] };
      obs = d.observable;
    }
    const hits = new Collector(this, now, tlpRank(maxTlp), this.maxMatches);
    this.collect(obs, hits);
    const indicators = hits.out;
    return { value: obs.value, type: obs.type, matched: indicators.length > 0, indicators };
  }

  get size(): number {
    return this.slots.live;
  }

  /** The structures, for the lookup snapshot (snapshot.ts) only: it writes them and fills them back. */
  parts(): IndexParts {
    return {
      slots: this.slots,
      lists: this.lists,
      exact: [
        [K.Ipv6, this.ipv6],
        [K.Domain, this.domains],
        [K.Url, this.urls],
        [K.Email, this.emails],
        [K.Hash, this.hashes],
      ],
      ipv4: this.ipv4,
      kinds: { ipv4: K.Ipv4, ipv4Cidr: K.Ipv4Cidr, ipv6Cidr: K.Ipv6Cidr, multi: MULTI },
      v4Ranges: this.v4Ranges,
      v6Ranges: this.v6Ranges,
      domainFilter: this.domainFilter,
      mixed: this.mixed,
      policy: this.access,
    };
  }

  sizes(): IndexSizes {
    return {
      indicators: this.slots.live,
      ipv4: this.ipv4.size,
      ipv6: this.ipv6.size,
      ipv4_cidr: this.v4Ranges.size,
      ipv6_cidr: this.v6Ranges.size,
      domain: this.domains.size,
      url: this.urls.size,
      email: this.emails.size,
      hash: this.hashes.size,
      x509: 0,
    };
  }

  /** @internal used by Collector */
  match(slot: number, kind: MatchKind, matched: string, maxRank: number): IndicatorMatch {
    const t = this.slots;
    const m = this.mixed.get(slot);
    if (m !== undefined && maxRank < m.high) return this.partialMatch(slot, m.obj, kind, matched, tlpOfRank(maxRank));
    return {
      id: t.idOf(slot),
      match: kind,
      matched_value: matched,
      score: t.score(slot) === 255 ? null : t.score(slot),
      // every contribution is visible: the strictest one's TLP
      tlp: tlpOfRank(m !== undefined ? m.high : t.tlp(slot)),
      labels: this.lists.get(t.labels(slot)),
      sources: this.lists.get(t.sources(slot)),
      first_seen: this.iso(t.firstSeen(slot)),
      last_seen: this.iso(t.lastSeen(slot)),
      valid_until: this.iso(t.validUntil(slot)),
      sightings: t.sightings(slot),
    };
  }

  /** The match of a mixed indicator for a reader who sees only some of its contributions. */
  private partialMatch(
    slot: number,
    obj: StixObject,
    kind: MatchKind,
    matched: string,
    ceiling: TlpLevel,
  ): IndicatorMatch {
    const seen = viewWithTlp(obj, ceiling, this.access);
    // a mixed indicator's match is asked for only by a reader who sees one of its contributions
    if (!seen) throw new RangeError(`indicator ${obj.id} has no view at TLP:${ceiling}`);
    const { view, tlp } = seen;
    const d = this.summarise(view);
    const score = view.x_stixgate?.score ?? view.confidence;
    return {
      id: this.slots.idOf(slot),
      match: kind,
      matched_value: matched,
      score: typeof score === 'number' && score >= 0 && score <= 100 ? Math.round(score) : null,
      tlp,
      labels: d.labels,
      sources: d.sources,
      first_seen: this.iso(d.first),
      last_seen: this.iso(d.last),
      valid_until: typeof view.valid_until === 'string' ? this.iso(this.parseTime(view.valid_until)) : null,
      sightings: view.x_stixgate?.sightings?.count ?? 0,
    };
  }

  /** @internal used by Collector */
  visible(slot: number, now: number, maxRank: number): boolean {
    return this.slots.visible(slot, now, maxRank);
  }

  private iso(ms: number): string | null {
    if (!Number.isFinite(ms)) return null;
    let iso = this.isoCache.get(ms);
    if (iso === undefined) {
      if (this.isoCache.size >= 8192) this.isoCache.clear();
      iso = new Date(ms).toISOString();
      this.isoCache.set(ms, iso);
    }
    return iso;
  }

  private collect(obs: Observable, hits: Collector): void {
    switch (obs.type) {
      case 'ipv4-addr':
        this.collectIpv4(obs, hits);
        return;
      case 'ipv6-addr':
        this.collectIpv6(obs, hits);
        return;
      case 'domain-name':
        this.collectDomain(obs.value, 'exact', hits);
        return;
      case 'url': {
        hits.add(this.urls.get(obs.value), 'exact', obs.value);
        const host = URL_HOST_RE.exec(obs.value)?.[1];
        if (!host) return;
        if (host.startsWith('[')) {
          const inner = host.slice(1, -1);
          hits.add(this.ipv6.get(inner), 'domain', inner);
          const v6 = parseIpv6(inner);
          if (v6) this.v6Ranges.containing(v6, (p, v) => hits.add(p, 'domain', v));
          return;
        }
        const v4 = parseIpv4(host);
        if (v4 !== undefined) {
          hits.add(this.ipv4.get(v4 | 0), 'domain', host);
          this.v4Ranges.containing(v4, (p, net, len) => hits.add(p, 'domain', `${formatIpv4(net)}/${len}`));
          return;
        }
        this.collectDomain(host, 'domain', hits);
        return;
      }
      case 'email-addr':
        hits.add(this.emails.get(obs.value), 'exact', obs.value);
        return;
      case 'file':
      case 'x509-certificate':
        hits.add(this.hashes.get(obs.value), 'exact', obs.value);
        return;
    }
  }

  private collectIpv4(obs: Observable, hits: Collector): void {
    if (obs.cidr) {
      const c = parseCidr(obs.value);
      if (c?.v === 4) this.v4Ranges.containing(c.net, (p, n, l) => hits.add(p, 'cidr', `${formatIpv4(n)}/${l}`), c.len);
      return;
    }
    const ip = parseIpv4(obs.value);
    if (ip === undefined) return;
    hits.add(this.ipv4.get(ip | 0), 'exact', obs.value);
    this.v4Ranges.containing(ip, (p, n, l) => hits.add(p, 'cidr', `${formatIpv4(n)}/${l}`));
  }

  private collectIpv6(obs: Observable, hits: Collector): void {
    if (!obs.cidr) hits.add(this.ipv6.get(obs.value), 'exact', obs.value);
    const c = parseCidr(obs.value);
    if (c?.v === 6) this.v6Ranges.containing(c.words, (p, v) => hits.add(p, 'cidr', v), c.len);
  }

  /**
   * The host itself (as `kind`) and, when enabled, its parent domains of at least two labels,
   * nearest first (a.b.evil.com → b.evil.com → evil.com). One right-to-left pass hashes every
   * suffix; only suffixes the Bloom filter may hold are looked up in the Map.
   */
  private collectDomain(host: string, kind: MatchKind, hits: Collector): void {
    if (this.domains.size === 0) return;
    const starts: number[] = [];
    let h = HASH_SEED;
    let dots = 0;
    for (let i = host.length - 1; i >= 0; i--) {
      const c = host.charCodeAt(i);
      if (c === 46) {
        // the suffix after this dot is a parent when it has at least two labels
        if (dots++ >= 1 && this.matchParents && this.domainFilter.mightHave(h)) starts.push(i + 1);
      }
      h = step(h, c);
    }
    if (this.domainFilter.mightHave(h)) hits.add(this.domains.get(host), kind, host);
    for (let j = starts.length - 1; j >= 0; j--) {
      const parent = host.slice(starts[j]);
      hits.add(this.domains.get(parent), 'domain', parent);
    }
  }

  private isActive(obj: Indicator): boolean {
    if (obj.revoked === true || obj.x_stixgate?.expired === true) return false;
    if (obj.valid_until !== undefined) {
      const until = Date.parse(obj.valid_until);
      if (Number.isFinite(until) && until <= this.clock()) return false;
    }
    return true;
  }

  /** Sources (sorted), distinct labels (object's and sources', sorted) and the seen window. */
  private summarise(obj: StixObject): SourceSummary {
    return summariseSources(obj, this.parseTimeFn);
  }

  private describe(slot: number, obj: Indicator): void {
    const t = this.slots;
    const { sources: sourceIds, labels, first, last } = this.summarise(obj);
    const span = tlpSpan(obj, this.access);
    if (span.low !== span.high) this.mixed.set(slot, { obj, high: span.high });
    const score = obj.x_stixgate?.score ?? obj.confidence;
    t.setMeta(slot, {
      // the least restrictive independent contribution: who sees the indicator at all (none: nobody)
      tlp: span.low >= 0 ? span.low : TLP_LEVELS.length,
      score: typeof score === 'number' && score >= 0 && score <= 100 ? Math.round(score) : 255,
      labels: this.lists.acquire(labels),
      sources: this.lists.acquire(sourceIds),
      firstSeen: first,
      lastSeen: last,
      validUntil: obj.valid_until !== undefined ? this.parseTime(obj.valid_until) : Number.NaN,
      sightings: obj.x_stixgate?.sightings?.count ?? 0,
    });
  }

  private readonly parseTimeFn = (text: string): number => this.parseTime(text);

  /** Date.parse with a one-entry memo: one feed poll stamps many indicators alike. */
  private parseTime(text: string): number {
    if (text !== this.lastTimeText) {
      this.lastTimeMs = Date.parse(text);
      this.lastTimeText = text;
    }
    return this.lastTimeMs;
  }

  private list(slot: number, observables: readonly Listable[]): void {
    const refs: Ref[] = [];
    for (const o of observables) {
      const ref = this.listOne(slot, o);
      if (ref && !refs.some((r) => r[0] === ref[0] && r[1] === ref[1] && r[2] === ref[2])) refs.push(ref);
    }
    const [only] = refs;
    if (refs.length === 1 && only !== undefined && only[0] !== K.Ipv4Cidr && only[0] !== K.Ipv6Cidr) {
      this.slots.setKind(slot, only[0]);
      this.slots.refs[slot] = only[1];
    } else {
      this.slots.setKind(slot, MULTI);
      this.slots.refs[slot] = refs;
    }
  }

  private listOne(slot: number, o: Listable): Ref | undefined {
    switch (o.type) {
      case 'ipv4-addr': {
        // a canonical IP value holds a slash exactly when it is a range (Observable.cidr)
        if (o.value.includes('/')) {
          const c = parseCidr(o.value);
          if (c?.v !== 4) return undefined;
          return [K.Ipv4Cidr, this.v4Ranges.add(c.net, c.len, slot), c.len];
        }
        const ip = parseIpv4(o.value);
        if (ip === undefined) return undefined;
        addPosting(this.ipv4, ip | 0, slot);
        return [K.Ipv4, ip | 0, 0];
      }
      case 'ipv6-addr': {
        if (o.value.includes('/')) {
          const c = parseCidr(o.value);
          if (c?.v !== 6) return undefined;
          return [K.Ipv6Cidr, this.v6Ranges.add(c.words, c.len, flatten(o.value), slot), c.len];
        }
        return this.exact(K.Ipv6, this.ipv6, o.value, slot);
      }
      case 'domain-name':
        return this.exact(K.Domain, this.domains, o.value, slot);
      case 'url':
        return this.exact(K.Url, this.urls, o.value, slot);
      case 'email-addr':
        return this.exact(K.Email, this.emails, o.value, slot);
      case 'file':
      case 'x509-certificate':
        return this.exact(K.Hash, this.hashes, o.value, slot);
    }
    return undefined;
  }

  private exact(kind: K, map: ShardedMap<string, Posting>, value: string, slot: number): Ref {
    const known = map.has(value);
    const key = known ? value : flatten(value);
    addPosting(map, key, slot);
    if (!known && map === this.domains) this.domainFilter.add(key);
    return [kind, key, 0];
  }

  private unlist(slot: number): void {
    const t = this.slots;
    const kind = t.kind(slot);
    const refs: Ref[] = kind === MULTI ? (t.refs[slot] as Ref[]) : [[kind as K, t.refs[slot] as string | number, 0]];
    for (const [k, key, len] of refs) {
      switch (k) {
        case K.Ipv4:
          removePosting(this.ipv4, key as number, slot);
          break;
        case K.Ipv6:
          removePosting(this.ipv6, key as string, slot);
          break;
        case K.Ipv4Cidr:
          this.v4Ranges.remove(key as number, len, slot);
          break;
        case K.Ipv6Cidr:
          this.v6Ranges.remove(key as string, len, slot);
          break;
        case K.Domain:
          removePosting(this.domains, key as string, slot);
          if (!this.domains.has(key as string)) this.domainFilter.remove();
          break;
        case K.Url:
          removePosting(this.urls, key as string, slot);
          break;
        case K.Email:
          removePosting(this.emails, key as string, slot);
          break;
        case K.Hash:
          removePosting(this.hashes, key as string, slot);
          break;
      }
    }
    this.lists.release(t.labels(slot));
    this.lists.release(t.sources(slot));
    this.mixed.delete(slot);
    t.release(slot);
  }
}
