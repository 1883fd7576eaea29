import { group } from '../../src/core/indexed.js';
import { isCidrText } from '../../src/core/cidr.js';
import { parseIpv4 } from '../../src/core/ip-address.js';

/**
 * Reference sets of the QRadar simulator, shared by both APIs: the legacy `reference_data/sets`
 * view (by name, `collection_id`) and `reference_data_collections` (by id). IBM's QRadar REST API documentation.
 */

export const ELEMENT_TYPES = ['ALN', 'ALNIC', 'IP', 'NUM', 'PORT', 'DATE', 'CIDR'] as const;
export type ElementType = (typeof ELEMENT_TYPES)[number];
/** Legacy `timeout_type` values plus the collections API's NO_EXPIRY. UNKNOWN and NO_EXPIRY never age. */
export type ExpiryType = 'UNKNOWN' | 'FIRST_SEEN' | 'LAST_SEEN' | 'NO_EXPIRY';

export interface Element {
  id: number;
  value: string;
  source: string;
  notes?: string;
  domainId: number | null;
  firstSeen: number;
  lastSeen: number;
}

/** A TTL as the legacy API echoes it (Postgres interval parts). */
export interface Interval {
  years: number;
  months: number;
  days: number;
  hours: number;
  mins: number;
  secs: number;
}

export interface RefSet {
  id: number;
  name: string;
  elementType: ElementType;
  namespace: 'SHARED' | 'TENANT';
  tenantId: number | null;
  creationTime: number;
  ttl?: Interval;
  expiry: ExpiryType;
  description?: string;
  expiredLogOption: string;
  /** Elements by key (lower-cased for ALNIC), in insertion order. */
  elements: Map<string, Element>;
  /** Earliest time an element may expire (a lower bound); sweeping before it is skipped. */
  nextSweep: number;
}

const UNIT_SECS = {
  second: 1,
  sec: 1,
  minute: 60,
  min: 60,
  hour: 3600,
  day: 86_400,
  week: 604_800,
  month: 2_592_000,
  mon: 2_592_000,
  year: 31_536_000,
} satisfies Record<string, number>;

/** Parses a legacy `time_to_live` such as "1 month", "5 minutes" or "2 days 3 hours"; undefined when invalid. */
export function parseInterval(text: string): Interval | undefined {
  const iv: Interval = { years: 0, months: 0, days: 0, hours: 0, mins: 0, secs: 0 };
  const re = /\s*(\d+)\s*(seconds?|secs?|minutes?|mins?|hours?|days?|weeks?|months?|mons?|years?)\s*/gy;
  let pos = 0;
  let parts = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const n = Number(m[1]);
    const unit = group(m, 2).replace(/s$/, '');
    if (unit === 'year') iv.years += n;
    else if (unit === 'month' || unit === 'mon') iv.months += n;
    else if (unit === 'week') iv.days += 7 * n;
    else if (unit === 'day') iv.days += n;
    else if (unit === 'hour') iv.hours += n;
    else if (unit === 'minute' || unit === 'min') iv.mins += n;
    else iv.secs += n;
    pos = re.lastIndex;
    parts++;
  }
  return parts > 0 && pos === text.length ? iv : undefined;
}

export function intervalFromSeconds(total: number): Interval {
  const days = Math.floor(total / 86_400);
  const hours = Math.floor((total % 86_400) / 3600);
  const mins = Math.floor((total % 3600) / 60);
  return { years: 0, months: 0, days, hours, mins, secs: total % 60 };
}

export function intervalSeconds(iv: Interval): number {
  return (
    iv.years * UNIT_SECS.year +
    iv.months * UNIT_SECS.month +
    iv.days * 86_400 +
    iv.hours * 3600 +
    iv.mins * 60 +
    iv.secs
  );
}

/** The server's echo form, e.g. "0 years 0mons 128 days 0 hours 0mins 0.0 secs". */
export function formatInterval(iv: Interval): string {
  return `${iv.years} years ${iv.months}mons ${iv.days} days ${iv.hours} hours ${iv.mins}mins ${iv.secs.toFixed(1)} secs`;
}

/** Why a value is not valid for an element type (QRadar's 1005 message), or undefined. */
export function invalidValue(type: ElementType, value: string): string | undefined {
  let ok: boolean;
  switch (type) {
    case 'IP':
      ok = parseIpv4(value) !== undefined;
      break;
    case 'CIDR':
      ok = isCidrText(value);
      break;
    case 'NUM':
      ok = /^-?\d+(\.\d+)?$/.test(value);
      break;
    case 'PORT':
      ok = /^\d{1,5}$/.test(value) && Number(value) <= 65_535;
      break;
    case 'DATE':
      ok = /^\d{1,15}$/.test(value);
      break;
    default:
      ok = value.length > 0;
  }
  return ok ? undefined : `Invalid ${type} value: ${value}`;
}

export const elementKey = (type: ElementType, value: string): string =>
  type === 'ALNIC' ? value.toLowerCase() : value;

export class RefStore {
  readonly sets = new Map<number, RefSet>();
  /** Element id → its set (for set_entries/{id}). */
  private readonly owner = new Map<number, { set: RefSet; key: string }>();
  private nextSetId = 1;
  private nextElementId = 1;

  constructor(private readonly maxValueLength: number) {}

  byName(name: string): RefSet | undefined {
    for (const s of this.sets.values()) if (s.name === name) return s;
    return undefined;
  }

  create(
    o: {
      name: string;
      elementType: ElementType;
      ttl?: Interval;
      expiry: ExpiryType;
      description?: string;
      expiredLogOption?: string;
      tenantId?: number;
    },
    now: number,
  ): RefSet {
    const set: RefSet = {
      id: this.nextSetId++,
      name: o.name,
      elementType: o.elementType,
      namespace: o.tenantId === undefined ? 'SHARED' : 'TENANT',
      tenantId: o.tenantId ?? null,
      creationTime: now,
      ttl: o.ttl,
      expiry: o.expiry,
      description: o.description,
      expiredLogOption: o.expiredLogOption ?? 'LOG_NONE',
      elements: new Map(),
      nextSweep: Number.POSITIVE_INFINITY,
    };
    this.sets.set(set.id, set);
    return set;
  }

  delete(set: RefSet): void {
    for (const e of set.elements.values()) this.owner.delete(e.id);
    this.sets.delete(set.id);
  }

  purge(set: RefSet): void {
    for (const e of set.elements.values()) this.owner.delete(e.id);
    set.elements.clear();
  }

  /** Checks a value; returns the 1005-style message when it is refused. */
  check(set: RefSet, value: string): string | undefined {
    if (value.length > this.maxValueLength) return `Value exceeds the maximum length of ${this.maxValueLength}`;
    return invalidValue(set.elementType, value);
  }

  /** Adds or updates (last_seen, source) a value already checked with `check`. */
  add(
    set: RefSet,
    value: string,
    now: number,
    source = 'reference data api',
    notes?: string,
    domainId: number | null = null,
  ): { element: Element; created: boolean } {
    const key = elementKey(set.elementType, value);
    const old = set.elements.get(key);
    if (old) {
      old.lastSeen = now;
      old.source = source;
      if (notes !== undefined) old.notes = notes;
      return { element: old, created: false };
    }
    const element: Element = {
      id: this.nextElementId++,
      value,
      source,
      notes,
      domainId,
      firstSeen: now,
      lastSeen: now,
    };
    set.elements.set(key, element);
    this.owner.set(element.id, { set, key });
    const ttl = this.ttlMs(set);
    if (ttl !== undefined) set.nextSweep = Math.min(set.nextSweep, now + ttl);
    return { element, created: true };
  }

  remove(set: RefSet, value: string): boolean {
    const key = elementKey(set.elementType, value);
    const e = set.elements.get(key);
    if (!e) return false;
    this.owner.delete(e.id);
    return set.elements.delete(key);
  }

  findElement(id: number): { set: RefSet; element: Element } | undefined {
    const o = this.owner.get(id);
    const element = o?.set.elements.get(o.key);
    return o && element ? { set: o.set, element } : undefined;
  }

  ttlMs(set: RefSet): number | undefined {
    if (!set.ttl || set.expiry === 'UNKNOWN' || set.expiry === 'NO_EXPIRY') return undefined;
    return intervalSeconds(set.ttl) * 1000;
  }

  /** Drops expired elements (TTL counted from first_seen or last_seen). Cheap until the next possible expiry. */
  sweep(set: RefSet, now: number): void {
    const ttl = this.ttlMs(set);
    if (ttl === undefined || now < set.nextSweep) return;
    let next = Number.POSITIVE_INFINITY;
    for (const [k, e] of set.elements) {
      const at = (set.expiry === 'FIRST_SEEN' ? e.firstSeen : e.lastSeen) + ttl;
      if (at <= now) {
        set.elements.delete(k);
        this.owner.delete(e.id);
      } else next = Math.min(next, at);
    }
    set.nextSweep = next;
  }

  sweepAll(now: number): void {
    for (const s of this.sets.values()) this.sweep(s, now);
  }
}
