import { errorMessage } from '../core/errors.js';
/**
 * A compiled set of warninglists. All lists of one match type share one structure, so a lookup
 * costs about the same for 1 list or 100:
 *  - string: a hash set per observable type of the entries canonicalised like observables;
 *  - hostname: one set of names, probed for the host and each parent on label boundaries;
 *  - cidr: IPv4/IPv6 prefix tables (ip-table.ts);
 *  - substring: one Aho-Corasick automaton (aho-corasick.ts);
 *  - regex: one linear-time NFA per list (regex-nfa.ts).
 * Each entry remembers its list; a hit counts only when the list's `matching_attributes` cover
 * the observable's type (misp-types.ts).
 */
import { createHash } from 'node:crypto';
import type { Observable, ObservableType } from '../core/stix.js';
import { normaliseHash, normaliseObservable, quoteValue } from '../core/observable.js';
import { normaliseHostName } from '../core/domain-name.js';
import { parseIpv4 } from '../core/ip-address.js';
import { AhoCorasick } from './aho-corasick.js';
import { privateSuffixOf } from './public-suffix.js';
import { cidrProblem, parseCidr } from '../core/cidr.js';
import { PrefixTable, type EntryRef } from './ip-table.js';
import { compilePatterns, MAX_STATES, type CompiledPatterns } from './regex-nfa.js';
import { problem, type MatchType, type Warninglist, type WarninglistProblem } from './format.js';
import { bitOf, maskForAttributes, typeKeyOf, typesOfMask, type TypeKey } from './misp-types.js';
import { at } from '../core/indexed.js';

export interface WarninglistHit {
  /** The list's name (bounded by configuration: usable as a metric label). */
  list: string;
  /** The list's short id (folder name). */
  id: string;
  type: MatchType;
  /** The entry that matched, as written in the list. */
  entry: string;
  /** What was compared: the value, or the host / e-mail domain / address taken from it. */
  value: string;
  /**
   * Set when the hit does not withhold the value: a `hostname` entry matched a parent of the host
   * that is (or lies above) a Public Suffix List private-section suffix, this one (the PSL rule).
   */
  private_suffix?: string;
}

export interface CompiledListInfo {
  id: string;
  name: string;
  type: MatchType;
  version: number;
  origin: string;
  /** Entries in use (invalid and inapplicable ones excluded). */
  entries: number;
  /** Observable types the list applies to; empty: the list is inert. */
  types: TypeKey[];
}

export interface CompileOptions {
  /** List names or ids to leave out. */
  exclude?: readonly string[];
  /** Regex entries may be bare patterns (no `/…/` delimiters); for user-written lists. */
  allowBareRegex?: boolean;
  /**
   * The PSL rule (default true): a `hostname` entry that is a Public Suffix List private-section
   * suffix (or a name above one, such as `amazonaws.com` above `s3.amazonaws.com`) matches only
   * the host itself, never the independently registered hosts under it. Such hits are still
   * reported, marked with `private_suffix`. Off for the publish allowlist (an operator's entry
   * means the domain and everything under it).
   */
  publicSuffixRule?: boolean;
}

interface RegexList {
  list: number;
  prog: CompiledPatterns;
  entries: string[];
}

/** Canonical forms an entry of a `string` list can take, per observable type. */
function canonicalForms(entry: string, mask: number): [ObservableType, string][] {
  const out: [ObservableType, string][] = [];
  const has = (k: TypeKey) => (mask & bitOf(k)) !== 0;
  for (const t of ['ipv4-addr', 'ipv6-addr', 'domain-name', 'email-addr'] as const) {
    if (!has(t)) continue;
    const r = normaliseObservable(t, entry);
    if (r.ok && r.observable.type === t) out.push([t, r.observable.value]);
  }
  if (has('url') && entry.includes('://')) {
    const r = normaliseObservable('url', entry);
    if (r.ok) out.push(['url', r.observable.value]);
  }
  for (const t of ['file', 'x509-certificate'] as const) {
    const r = normaliseHash(t, entry);
    if (!r.ok) continue;
    const key = typeKeyOf(r.observable);
    if (key !== undefined && has(key)) out.push([t, r.observable.value]);
  }
  return out;
}

/** A hostname entry as compared: no leading `*.`/dots or trailing dot, lower case, IDN as punycode. */
export function canonicalHost(entry: string): string {
  let s = entry.trim();
  if (s.startsWith('*.')) s = s.slice(2);
  s = s.replace(/^\.+|\.+$/g, '');
  return normaliseHostName(s, false) ?? s.toLowerCase();
}

/** The host of a canonical URL (`scheme://[user@]host[:port]/…`), IPv6 brackets removed. */
export function urlHost(url: string): string | undefined {
  const m = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(\[[^\]/]*\]|[^:/?#]*)/.exec(url);
  const host = m?.[1];
  if (!host) return undefined;
  return host.startsWith('[') ? host.slice(1, -1) : host;
}

function push<K>(m: Map<K, EntryRef[]>, key: K, ref: EntryRef): void {
  const refs = m.get(key);
  if (!refs) m.set(key, [ref]);
  else if (!refs.some((r) => r.list === ref.list)) refs.push(ref);
}

export class WarninglistMatcher {
  readonly lists: readonly CompiledListInfo[];
  /** SHA-256 of what the matcher matches (its lists' entries, types and options): equal lists, equal fingerprint. */
  readonly fingerprint: string;
  private readonly masks: Int32Array;
  private readonly strings = new Map<ObservableType, Map<string, EntryRef[]>>();
  private readonly hosts = new Map<string, EntryRef[]>();
  private readonly cidrs = new PrefixTable();
  private readonly substrings = new AhoCorasick<EntryRef>();
  private readonly regexes: RegexList[] = [];
  private readonly stamp: Int32Array;
  private gen = 0;
  private hasSubstrings = false;
  private readonly pslRule: boolean;

  private constructor(lists: Warninglist[], opts: CompileOptions, problems: WarninglistProblem[]) {
    this.masks = new Int32Array(lists.length);
    this.stamp = new Int32Array(lists.length);
    this.pslRule = opts.publicSuffixRule ?? true;
    const hash = createHash('sha256').update(`psl:${this.pslRule};bare:${opts.allowBareRegex === true}\n`);
    for (const l of lists)
      hash.update(
        `${JSON.stringify([l.id, l.name, l.version, l.type, l.matching_attributes])}\n${l.list.join('\n')}\n\0`,
      );
    this.fingerprint = hash.digest('hex');
    const infos: CompiledListInfo[] = [];
    lists.forEach((l, li) => {
      const mask = maskForAttributes(l.matching_attributes);
      this.masks[li] = mask;
      const info: CompiledListInfo = {
        id: l.id,
        name: l.name,
        type: l.type,
        version: l.version,
        origin: l.origin,
        entries: 0,
        types: typesOfMask(mask),
      };
      infos.push(info);
      if (mask === 0) return;
      info.entries = this.addEntries(l, li, mask, opts, problems);
    });
    this.substrings.build();
    this.lists = infos;
  }

  /** Compiles lists (after `exclude`); per-entry problems (bad CIDR, refused regex) are returned, the entry skipped. */
  static compile(
    lists: readonly Warninglist[],
    opts: CompileOptions = {},
  ): { matcher: WarninglistMatcher; problems: WarninglistProblem[] } {
    const exclude = new Set(opts.exclude ?? []);
    const kept = lists.filter((l) => !exclude.has(l.name) && !exclude.has(l.id));
    const problems: WarninglistProblem[] = [];
    return { matcher: new WarninglistMatcher(kept, opts, problems), problems };
  }

  private addEntries(
    l: Warninglist,
    li: number,
    mask: number,
    opts: CompileOptions,
    problems: WarninglistProblem[],
  ): number {
    let used = 0;
    const bad = (i: number, reason: string) =>
      problems.push(problem(l.origin, `$.list[${l.entryIndex?.[i] ?? i}]`, reason, false));
    switch (l.type) {
      case 'string':
        l.list.forEach((entry) => {
          const forms = canonicalForms(entry, mask);
          for (const [t, v] of forms) {
            let m = this.strings.get(t);
            if (!m) {
              m = new Map();
              this.strings.set(t, m);
            }
            push(m, v, { list: li, entry });
          }
          if (forms.length) used++;
        });
        break;
      case 'hostname':
        for (const entry of l.list) {
          const h = canonicalHost(entry);
          if (h.length === 0) continue;
          push(this.hosts, h, { list: li, entry });
          used++;
        }
        break;
      case 'cidr':
        for (const [i, entry] of l.list.entries()) {
          const c = parseCidr(entry.trim());
          if (!c) {
            bad(i, `invalid CIDR or IP address ${quoteValue(entry)}: ${cidrProblem(entry.trim())}`);
            continue;
          }
          this.cidrs.add(c, { list: li, entry });
          used++;
        }
        break;
      case 'substring':
        for (const entry of l.list) {
          this.substrings.add(entry, { list: li, entry });
          this.hasSubstrings = true;
          used++;
        }
        break;
      case 'regex': {
        // vetted one by one, then packed into programs of at most MAX_STATES states each
        let batch: string[] = [];
        let states = 0;
        const flush = () => {
          if (batch.length) this.regexes.push({ list: li, prog: compilePatterns(batch, bare), entries: batch });
          batch = [];
          states = 0;
        };
        const bare = opts.allowBareRegex ?? false;
        for (const [i, entry] of l.list.entries()) {
          let n: number;
          try {
            n = compilePatterns([entry], bare).states;
          } catch (e) {
            bad(i, `regex refused: ${errorMessage(e)}`);
            continue;
          }
          if (states + n > MAX_STATES) flush();
          batch.push(entry);
          states += n;
          used++;
        }
        flush();
        break;
      }
    }
    return used;
  }

  get size(): number {
    return this.lists.length;
  }

  /** Every list the observable is on (one hit per list: the first entry found). */
  match(o: Observable): WarninglistHit[] {
    const key = typeKeyOf(o);
    if (key === undefined || this.lists.length === 0) return [];
    const bit = bitOf(key);
    if (++this.gen === 0x7fffffff) {
      this.stamp.fill(0);
      this.gen = 1;
    }
    const hits: WarninglistHit[] = [];
    const take = (ref: EntryRef, value: string, privateSuffix?: string): void => {
      // list numbers index masks, stamp and lists, which hold one entry per list
      if ((this.masks[ref.list]! & bit) === 0 || this.stamp[ref.list] === this.gen) return;
      this.stamp[ref.list] = this.gen;
      const info = this.lists[ref.list]!;
      const hit: WarninglistHit = { list: info.name, id: info.id, type: info.type, entry: ref.entry, value };
      if (privateSuffix !== undefined) hit.private_suffix = privateSuffix;
      hits.push(hit);
    };
    const exact = this.strings.get(o.type)?.get(o.value);
    if (exact) for (const r of exact) take(r, o.value);
    switch (o.type) {
      case 'domain-name':
        this.hostHits(o.value, take);
        break;
      case 'email-addr':
        this.hostHits(o.value.slice(o.value.lastIndexOf('@') + 1), take);
        break;
      case 'url': {
        const host = urlHost(o.value);
        if (host === undefined) break;
        const ip = host.includes(':') || parseIpv4(host) !== undefined ? parseCidr(host) : undefined;
        if (ip) this.cidrs.containing(ip, (r) => take(r, host));
        else this.hostHits(host, take);
        break;
      }
      case 'ipv4-addr':
      case 'ipv6-addr': {
        const c = parseCidr(o.value);
        if (c) this.cidrs.containing(c, (r) => take(r, o.value));
        break;
      }
    }
    if (this.hasSubstrings) this.substrings.search(o.value, (r) => void take(r, o.value));
    for (const rl of this.regexes) {
      // (a long list may span several programs; the first hit counts)
      if ((this.masks[rl.list]! & bit) === 0 || this.stamp[rl.list] === this.gen) continue;
      const i = rl.prog.search(o.value);
      if (i >= 0) take({ list: rl.list, entry: at(rl.entries, i) }, o.value); // the program returns an entry's number
    }
    return hits;
  }

  /**
   * Probes the host and each parent domain (label boundaries only), nearest first. With the PSL
   * rule, a parent that is the host's private-section suffix or above it is a non-withholding hit
   * (the suffix is looked up only once such a parent is listed).
   */
  private hostHits(host: string, take: (ref: EntryRef, value: string, privateSuffix?: string) => void): void {
    if (this.hosts.size === 0) return;
    let h = host;
    let suffix: string | undefined | null = null;
    for (;;) {
      const refs = this.hosts.get(h);
      if (refs) {
        if (this.pslRule && h !== host && suffix === null) suffix = privateSuffixOf(host);
        // h is a suffix of the host: at or above the private suffix when it is no longer than it
        const exempt = h !== host && typeof suffix === 'string' && h.length <= suffix.length ? suffix : undefined;
        for (const r of refs) take(r, host, exempt);
      }
      const dot = h.indexOf('.');
      if (dot < 0) return;
      h = h.slice(dot + 1);
    }
  }

  stats(): { lists: number; entries: number; byType: Record<MatchType, number>; inert: string[] } {
    const byType: Record<MatchType, number> = { string: 0, substring: 0, hostname: 0, cidr: 0, regex: 0 };
    let entries = 0;
    for (const l of this.lists) {
      byType[l.type] += l.entries;
      entries += l.entries;
    }
    return {
      lists: this.lists.length,
      entries,
      byType,
      inert: this.lists.filter((l) => l.types.length === 0).map((l) => l.name),
    };
  }
}
