import type Database from 'better-sqlite3';
import { isSco, type StixObject } from '../core/stix.js';
import type { Change } from '../store/contract.js';
import { cidr4Key, cidr6Key, hostSuffixes, parseValueKey, valueKeysOf } from './values.js';
import { DEFAULT_POLICY, type AccessPolicy } from '../access/policy.js';
import { contentRank } from '../access/view.js';

/** Derivation kinds (link kinds computed by stixgate rather than stated by a source). */
export const DERIVATIONS = ['same-value', 'inside-cidr', 'on-domain', 'resolves-to', 'shares-malware'] as const;
export type Derivation = (typeof DERIVATIONS)[number];

/** Objects whose `object_refs` make them containers of what they reference. */
const CONTAINERS = new Set(['report', 'grouping', 'note', 'opinion', 'observed-data']);
/** Node types whose name is kept for summaries (indicators and SCOs are named by their value). */
const UNNAMED = new Set(['indicator', 'relationship', 'sighting', 'marking-definition']);

export const STATE_REFERENCED = 0;
export const STATE_ACTIVE = 1;
export const STATE_INACTIVE = 2;

const MAX_NAME = 256;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
/** Relationship types become link kinds (kept in memory): the STIX vocabulary form only, bounded. */
const KIND_RE = /^[a-z0-9][a-z0-9-]{0,63}$/;
const REF_RE = /^[a-z][a-z0-9-]{0,62}--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const isRef = (v: unknown): v is string => typeof v === 'string' && REF_RE.test(v);

/** Small string ↔ integer dictionary (types, link kinds), cached in memory. */
export class Dict {
  private readonly byName = new Map<string, number>();
  private readonly byId = new Map<number, string>();
  private readonly insert: Database.Statement;

  constructor(db: Database.Database) {
    for (const r of db.prepare('SELECT k, name FROM dict').all() as { k: number; name: string }[])
      this.remember(r.k, r.name);
    this.insert = db.prepare('INSERT INTO dict(name) VALUES (?)');
  }

  id(name: string): number {
    const k = this.byName.get(name);
    if (k !== undefined) return k;
    const id = Number(this.insert.run(name).lastInsertRowid);
    this.remember(id, name);
    return id;
  }

  /** The id when the name is known, else undefined (never inserts: safe from read paths). */
  peek(name: string): number | undefined {
    return this.byName.get(name);
  }

  name(id: number): string {
    return this.byId.get(id) ?? `#${id}`;
  }

  private remember(k: number, name: string): void {
    this.byName.set(name, k);
    this.byId.set(k, name);
  }
}

export interface WriterOptions {
  /** Most derived links a value takes part in, and most holders of one value that correlate. */
  maxFanout: number;
  onCapped?: (derivation: Derivation) => void;
  /** The access policy node TLPs are computed under (default_tlp). */
  access?: AccessPolicy;
}

/**
 * Applies change-log entries to the correlation index (inside the caller's transaction). Derived
 * links are computed once per value, when the value is first seen, by indexed probes only: an
 * address probes the listed prefix lengths; a CIDR range-scans listed addresses; a URL probes its
 * host's suffixes; a domain prefix-scans URL hosts. Every scan stops at the fan-out cap, so a
 * change costs the same however large the index is.
 */
export class IndexWriter {
  private readonly s;
  private readonly cap: number;
  private readonly cidrLens = { 4: new Set<number>(), 6: new Set<number>() };
  private readonly capped = new Map<Derivation, number>();
  readonly dict: Dict;
  private readonly kResolves: number;
  private readonly kObjectRef: number;
  /** False until the first resolves-to edge: spares two lookups per change on indexes without any. */
  private hasResolves: boolean;

  constructor(
    db: Database.Database,
    private readonly opts: WriterOptions,
  ) {
    this.cap = opts.maxFanout;
    this.dict = new Dict(db);
    this.kResolves = this.dict.id('resolves-to');
    this.kObjectRef = this.dict.id('object-ref');
    this.hasResolves = db.prepare("SELECT 1 FROM meta WHERE k = 'has_resolves'").get() !== undefined;
    for (const r of db.prepare('SELECT family, len FROM cidrlen').all() as { family: 4 | 6; len: number }[])
      this.cidrLens[r.family].add(r.len);
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      upsertNode: p(`INSERT INTO node(id, type, state, tlp, name) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT(id) DO UPDATE SET type = excluded.type, state = excluded.state, tlp = excluded.tlp, name = excluded.name RETURNING n`),
      nodeById: p('SELECT n FROM node WHERE id = ?'),
      insertRef: p('INSERT INTO node(id, type) VALUES (?, ?)'),
      holdsOfNode: p('SELECT v FROM hold WHERE n = ?').pluck(),
      insertHold: p('INSERT OR IGNORE INTO hold(v, n) VALUES (?, ?)'),
      deleteHold: p('DELETE FROM hold WHERE v = ? AND n = ?'),
      incHolders: p('UPDATE val SET holders = holders + 1 WHERE v = ? RETURNING holders').pluck(),
      decHolders: p('UPDATE val SET holders = holders - 1 WHERE v = ? RETURNING holders').pluck(),
      keyOf: p('SELECT key FROM val WHERE v = ?').pluck(),
      deleteIp4: p('DELETE FROM ip4 WHERE addr = ? AND v = ?'),
      deleteIp6: p('DELETE FROM ip6 WHERE addr = ? AND v = ?'),
      deleteHost: p('DELETE FROM host WHERE rh = ? AND v = ?'),
      containmentFrom: p('SELECT a, kind, b FROM vlink WHERE a = ? AND owner = 0'),
      containmentTo: p('SELECT a, kind, b FROM vlink WHERE b = ? AND owner = 0'),
      deleteVlink: p('DELETE FROM vlink WHERE a = ? AND kind = ? AND b = ? AND owner = 0'),
      valByKey: p('SELECT v FROM val WHERE key = ?').pluck(),
      insertVal: p('INSERT INTO val(key) VALUES (?)'),
      fan: p('SELECT fan FROM val WHERE v = ?').pluck(),
      addFan: p('UPDATE val SET fan = fan + ? WHERE v = ?'),
      markCapped: p('UPDATE val SET capped = 1 WHERE v = ?'),
      insertIp4: p('INSERT OR IGNORE INTO ip4(addr, v) VALUES (?, ?)'),
      insertIp6: p('INSERT OR IGNORE INTO ip6(addr, v) VALUES (?, ?)'),
      ip4Range: p('SELECT v FROM ip4 WHERE addr BETWEEN ? AND ? LIMIT ?').pluck(),
      ip6Range: p('SELECT v FROM ip6 WHERE addr BETWEEN ? AND ? LIMIT ?').pluck(),
      insertCidrLen: p('INSERT OR IGNORE INTO cidrlen(family, len) VALUES (?, ?)'),
      insertHost: p('INSERT OR IGNORE INTO host(rh, v) VALUES (?, ?)'),
      hostRange: p('SELECT v FROM host WHERE rh >= ? AND rh < ? LIMIT ?').pluck(),
      insertVlink: p('INSERT OR IGNORE INTO vlink(a, kind, b, owner) VALUES (?, ?, ?, ?)'),
      vlinksByOwner: p('SELECT a, b FROM vlink WHERE owner = ?'),
      deleteVlinksByOwner: p('DELETE FROM vlink WHERE owner = ?'),
      insertEdge: p('INSERT OR IGNORE INTO edge(a, kind, b, owner) VALUES (?, ?, ?, ?)'),
      deleteEdge: p('DELETE FROM edge WHERE a = ? AND kind = ? AND b = ? AND owner = ?'),
      deleteOwned: p('DELETE FROM edge WHERE a = ? AND owner = ?'),
      resolvesFrom: p('SELECT b FROM edge WHERE a = ? AND kind = ?').pluck(),
      hasResolvesFrom: p('SELECT 1 FROM edge WHERE a = ? AND kind = ? LIMIT 1').pluck(),
      resolvesTo: p('SELECT a FROM edge WHERE b = ? AND kind = ?').pluck(),
      valuesOfNode: p('SELECT v.v AS v, v.key AS key FROM hold h JOIN val v ON v.v = h.v WHERE h.n = ?'),
      markResolves: p("INSERT OR IGNORE INTO meta(k, v) VALUES ('has_resolves', '1')"),
      upsertCounter: p('INSERT INTO counter(name, n) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET n = n + excluded.n'),
    };
  }

  /** Applies one change: the node's state, the values it holds, the links its content states. */
  apply(c: Change): void {
    const obj = c.object;
    const active = c.op === 'upsert' && obj.revoked !== true && obj.x_stixgate?.expired !== true;
    const n = this.upsertNode(obj, active);
    const valuesChanged = this.setValues(n, active ? valueKeysOf(obj) : []);
    if (obj.type === 'relationship') this.relationship(n, obj, active);
    else {
      const owned = active ? ownedRefs(obj) : [];
      // owned edges are replaced wholesale (an update may drop refs); a node that never owned any skips the delete
      if (owned.length > 0 || CONTAINERS.has(obj.type) || obj.type === 'sighting' || obj.type === 'domain-name')
        this.replaceOwned(n, owned);
      if (obj.type === 'domain-name' && this.hasResolves) this.refreshResolves(n);
    }
    if (valuesChanged) this.valuesChanged(n);
  }

  /** Counts since the last call (the caller persists and publishes them). */
  takeCapped(): Map<Derivation, number> {
    const out = new Map(this.capped);
    this.capped.clear();
    for (const [k, v] of out) this.s.upsertCounter.run(k, v);
    return out;
  }

  // ---------------------------------------------------------------------------------------------

  private upsertNode(obj: StixObject, active: boolean): number {
    const name = UNNAMED.has(obj.type) || isSco(obj.type) ? null : (str(obj.name)?.slice(0, MAX_NAME) ?? null);
    return this.s.upsertNode
      .pluck()
      .get(
        obj.id,
        this.dict.id(obj.type),
        active ? STATE_ACTIVE : STATE_INACTIVE,
        contentRank(obj, this.opts.access ?? DEFAULT_POLICY),
        name,
      ) as number;
  }

  /** The node of a referenced id (a placeholder until the object itself arrives). */
  private nodeOf(id: string): number {
    const n = this.s.nodeById.pluck().get(id) as number | undefined;
    if (n !== undefined) return n;
    return Number(this.s.insertRef.run(id, this.dict.id(id.slice(0, id.indexOf('--')))).lastInsertRowid);
  }

  /**
   * Makes `keys` the values node `n` holds. True when anything changed. A value takes part in
   * derivations while some live object holds it: its links are derived when it gains its first
   * holder and dropped when it loses its last, so dead values never use up a fan-out budget.
   */
  private setValues(n: number, keys: string[]): boolean {
    const old = this.s.holdsOfNode.all(n) as number[];
    if (keys.length === 0 && old.length === 0) return false;
    const next = new Map<number, string>();
    for (const k of keys) next.set(this.valueId(k), k);
    let changed = false;
    for (const v of old) {
      if (next.has(v)) continue;
      this.s.deleteHold.run(v, n);
      if ((this.s.decHolders.get(v) as number) === 0) this.underive(v, this.s.keyOf.get(v) as string);
      changed = true;
    }
    const had = new Set(old);
    for (const [v, key] of next) {
      if (had.has(v)) continue;
      if (this.s.insertHold.run(v, n).changes === 0) continue;
      changed = true;
      const holders = this.s.incHolders.get(v) as number;
      if (holders === 1) this.derive(v, key);
      // holders beyond the cap are kept (they count for their own lookups) but do not correlate
      else if (holders > this.cap) this.refuse('same-value', v);
    }
    return changed;
  }

  private valueId(key: string): number {
    const v = this.s.valByKey.get(key) as number | undefined;
    return v ?? Number(this.s.insertVal.run(key).lastInsertRowid);
  }

  /** A value lost its last holder: out of the address/host indexes, its containment links dropped. */
  private underive(v: number, key: string): void {
    const p = parseValueKey(key);
    if (p.kind === 'ip4') this.s.deleteIp4.run(p.addr, v);
    else if (p.kind === 'ip6') this.s.deleteIp6.run(p.addr, v);
    else if (p.kind === 'url' && p.rhost !== undefined) this.s.deleteHost.run(p.rhost, v);
    const links = [...this.s.containmentFrom.all(v), ...this.s.containmentTo.all(v)] as {
      a: number;
      kind: number;
      b: number;
    }[];
    for (const l of links) {
      this.s.deleteVlink.run(l.a, l.kind, l.b);
      this.s.addFan.run(-1, l.a);
      this.s.addFan.run(-1, l.b);
    }
  }

  /** Derived links of a value that gained its first live holder. */
  private derive(v: number, key: string): void {
    const p = parseValueKey(key);
    const probe = this.cap + 1;
    switch (p.kind) {
      case 'ip4':
        this.s.insertIp4.run(p.addr, v);
        for (const len of this.cidrLens[4]) {
          const cv = this.s.valByKey.get(cidr4Key(p.addr, len)) as number | undefined;
          if (cv !== undefined) this.link(v, 'inside-cidr', cv, 0);
        }
        return;
      case 'ip6':
        this.s.insertIp6.run(p.addr, v);
        for (const len of this.cidrLens[6]) {
          const cv = this.s.valByKey.get(cidr6Key(p.addr, len)) as number | undefined;
          if (cv !== undefined) this.link(v, 'inside-cidr', cv, 0);
        }
        return;
      case 'cidr4':
      case 'cidr6': {
        const family = p.kind === 'cidr4' ? 4 : 6;
        if (!this.cidrLens[family].has(p.len)) {
          this.s.insertCidrLen.run(family, p.len);
          this.cidrLens[family].add(p.len);
        }
        const inside = (family === 4 ? this.s.ip4Range : this.s.ip6Range).all(p.lo, p.hi, probe) as number[];
        for (const iv of inside) if (!this.link(iv, 'inside-cidr', v, 0)) break;
        return;
      }
      case 'domain': {
        const prefix = p.rhost;
        const end = `${prefix.slice(0, -1)}/`; // '/' sorts right after '.'
        const urls = this.s.hostRange.all(prefix, end, probe) as number[];
        for (const uv of urls) if (!this.link(uv, 'on-domain', v, 0)) break;
        return;
      }
      case 'url':
        if (p.host === undefined) return;
        this.s.insertHost.run(p.rhost, v);
        for (const h of hostSuffixes(p.host)) {
          const dv = this.s.valByKey.get(`domain-name:${h}`) as number | undefined;
          if (dv !== undefined) this.link(v, 'on-domain', dv, 0);
        }
        return;
      default:
    }
  }

  /** Adds a derived link between two values unless either is at the fan-out cap (then counted). */
  private link(a: number, kind: Derivation, b: number, owner: number): boolean {
    if ((this.s.fan.get(a) as number) >= this.cap) return this.refuse(kind, a);
    if ((this.s.fan.get(b) as number) >= this.cap) return this.refuse(kind, b);
    if (this.s.insertVlink.run(a, this.dict.id(kind), b, owner).changes > 0) {
      this.s.addFan.run(1, a);
      this.s.addFan.run(1, b);
    }
    return true;
  }

  private refuse(kind: Derivation, v: number): false {
    this.capped.set(kind, (this.capped.get(kind) ?? 0) + 1);
    this.opts.onCapped?.(kind);
    this.s.markCapped.run(v);
    return false;
  }

  private relationship(n: number, obj: StixObject, active: boolean): void {
    const src = obj.source_ref;
    const tgt = obj.target_ref;
    const type = str(obj.relationship_type);
    if (!isRef(src) || !isRef(tgt) || type === undefined || !KIND_RE.test(type)) return;
    const a = this.nodeOf(src);
    const b = this.nodeOf(tgt);
    const kind = this.dict.id(type);
    if (active) this.s.insertEdge.run(a, kind, b, n);
    else this.s.deleteEdge.run(a, kind, b, n);
    if (kind === this.kResolves) {
      this.noteResolves();
      this.refreshResolves(a);
    }
  }

  private replaceOwned(n: number, refs: [string, string][]): void {
    this.s.deleteOwned.run(n, n);
    for (const [kind, ref] of refs) {
      const m = this.nodeOf(ref);
      if (m === n) continue;
      const k = kind === 'object-ref' ? this.kObjectRef : this.dict.id(kind);
      if (k === this.kResolves) this.noteResolves();
      this.s.insertEdge.run(n, k, m, n);
    }
  }

  private noteResolves(): void {
    if (this.hasResolves) return;
    this.hasResolves = true;
    this.s.markResolves.run();
  }

  /** A node's values changed: the domain → address links through its resolves-to edges are recomputed. */
  private valuesChanged(n: number): void {
    if (!this.hasResolves) return;
    if (this.s.hasResolvesFrom.get(n, this.kResolves) !== undefined) this.refreshResolves(n);
    for (const a of this.s.resolvesTo.all(n, this.kResolves) as number[]) this.refreshResolves(a);
  }

  /**
   * Recomputes the derived `resolves-to` links owned by domain node `d`: each domain value it
   * holds → each address value held by the nodes it resolves to.
   */
  private refreshResolves(d: number): void {
    for (const r of this.s.vlinksByOwner.all(d) as { a: number; b: number }[]) {
      this.s.addFan.run(-1, r.a);
      this.s.addFan.run(-1, r.b);
    }
    this.s.deleteVlinksByOwner.run(d);
    const domains = (this.s.valuesOfNode.all(d) as { v: number; key: string }[]).filter((r) =>
      r.key.startsWith('domain-name:'),
    );
    if (domains.length === 0) return;
    for (const t of this.s.resolvesFrom.all(d, this.kResolves) as number[]) {
      for (const ip of this.s.valuesOfNode.all(t) as { v: number; key: string }[]) {
        if (!(ip.key.startsWith('ipv4-addr:') || ip.key.startsWith('ipv6-addr:')) || ip.key.includes('/')) continue;
        for (const dv of domains) this.link(dv.v, 'resolves-to', ip.v, d);
      }
    }
  }
}

/** The [kind, ref] links an object's own content states (containers, sightings, resolves_to_refs). */
export function ownedRefs(obj: StixObject): [string, string][] {
  const out: [string, string][] = [];
  const add = (kind: string, v: unknown) => {
    if (Array.isArray(v)) {
      for (const r of v) if (isRef(r)) out.push([kind, r]);
    } else if (isRef(v)) out.push([kind, v]);
  };
  if (CONTAINERS.has(obj.type)) add('object-ref', obj.object_refs);
  else if (obj.type === 'sighting') {
    add('sighting-of', obj.sighting_of_ref);
    add('observed-data', obj.observed_data_refs);
  } else if (obj.type === 'domain-name') add('resolves-to', obj.resolves_to_refs);
  return out;
}
