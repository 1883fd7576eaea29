import { first } from '../../src/core/indexed.js';
import { parseQuery, QueryError } from './sim-query.js';
import { RELIABILITIES } from './schema.js';
import { isRecord } from '../../src/core/guards.js';

/**
 * The indicator store of the XSOAR simulator (one per tenant): indicators unique by value,
 * optimistic versions, per-source scores, expiration and the exclusion list. Cortex XSOAR's REST API documentation.
 */

export const ZERO_TIME = '0001-01-01T00:00:00Z';

export interface SimIndicator {
  id: string;
  version: number;
  value: string;
  indicator_type: string;
  /** The verdict: the manual score when `manualScore`, else the highest score of the sources. */
  score: number;
  manualScore: boolean;
  manualSetTime: string;
  comment: string;
  source: string;
  setBy: string;
  account: string;
  timestamp: string;
  modified: string;
  firstSeen: string;
  lastSeen: string;
  calculatedTime: string;
  expiration: string;
  expirationStatus: 'active' | 'expired';
  expirationSource: {
    brand: string;
    instance: string;
    expirationPolicy: string;
    expirationInterval: number;
    setTime: string;
    source: string;
    user: string;
  } | null;
  manualExpirationTime: string;
  sourceBrands: string[];
  sourceInstances: string[];
  investigationIDs: string[];
  CustomFields: Record<string, unknown>;
  sortValues: string[];
  /** Score given by each source brand (feed ingestion). Not an XSOAR field; inspection only. */
  sourceScores: Record<string, number>;
  /** Expiration set by each source brand's feed ingestion (ZERO_TIME: never). Not an XSOAR field; inspection only. */
  sourceExpirations: Record<string, string>;
  /** Fields an analyst set through /indicator/create or /indicator/edit (swagger IocObject.manuallyEditedFields). */
  manuallyEditedFields: string[];
  reliability?: string;
}

export interface Exclusion {
  value: string;
  reason: string;
  /** When it was added (the simulator's clock). */
  at: string;
}

export class SimError extends Error {
  constructor(
    readonly status: number,
    readonly id: string,
    readonly title: string,
    message: string,
  ) {
    super(message);
  }
}

export const EXPIRATION_POLICIES = ['never', 'interval', 'indicatorType'] as const;

export interface StoreOptions {
  /** Indicator types accepted (out of the box: IP, IPv6, Domain, URL, Email, File, …). */
  types: string[];
  /** Default expiration of each type's `indicatorType` policy, minutes (default 10080 = 7 days). */
  typeExpirationMinutes: number;
  now: () => number;
  /** `merge` (default): /indicator/create on an existing value updates it; `conflict`: 409. */
  createExisting: 'merge' | 'conflict';
  /** Status of a stale-version edit (default 409; some servers answer 400). */
  versionConflictStatus: number;
  /** The indicator fields the server defines (cliNames); keys of `fields`/`CustomFields` outside it are dropped. */
  indicatorFields: readonly string[];
  /** `keep`: feed/json stores the raw indicator's `fields`; `drop`: the feed classifier maps none of them. */
  feedFields: 'keep' | 'drop';
}

/**
 * Indicator fields of a server with the common content packs [UNCERTAIN: XSOAR defines fields per
 * installation; a key it does not define is dropped without an error]. A deployment's own fields
 * are added with the simulator's `indicatorFields` option.
 */
export const DEFAULT_INDICATOR_FIELDS = [
  'tags',
  'trafficlightprotocol',
  'description',
  'stixid',
  'firstseenbysource',
  'lastseenbysource',
  'reportedby',
  'malwarefamily',
  'threattypes',
  'verdict',
] as const;

const iso = (ms: number): string => new Date(ms).toISOString();
/** Go decodes JSON null into the zero value: a null key is as good as an absent one (demisto-py sends every model attribute, unset ones as null). */
const clean = (v: unknown): unknown =>
  isRecord(v) ? Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null)) : v;

export class IndicatorStore {
  readonly byId = new Map<string, SimIndicator>();
  private readonly byValue = new Map<string, SimIndicator>();
  readonly exclusions = new Map<string, Exclusion>();
  /** Field keys dropped because the server does not define them (or the feed classifier mapped none), by key. */
  readonly droppedFields = new Map<string, number>();
  private nextId = 1;
  private readonly types: Map<string, string>;

  constructor(private readonly o: StoreOptions) {
    this.types = new Map(o.types.map((t) => [t.toLowerCase(), t]));
  }

  /** The fields the server keeps (defined ones, when `keep`); the rest are counted as dropped. */
  private known(fields: Record<string, unknown>, keep: boolean): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(fields)) {
      if (keep && this.o.indicatorFields.includes(k)) out[k] = v;
      else this.droppedFields.set(k, (this.droppedFields.get(k) ?? 0) + 1);
    }
    return out;
  }

  private key(v: string): string {
    return v.toLowerCase();
  }

  find(value: string): SimIndicator | undefined {
    return this.byValue.get(this.key(value));
  }

  /** The indicator as the server reports it: expirationStatus as of now (the expiration job). */
  view(i: SimIndicator): SimIndicator {
    const exp = Date.parse(i.expiration);
    i.expirationStatus =
      i.expiration !== ZERO_TIME && Number.isFinite(exp) && exp <= this.o.now() ? 'expired' : 'active';
    return i;
  }

  private checkType(t: unknown, where: string): string {
    if (typeof t !== 'string' || t === '')
      throw new SimError(400, 'bad_request', 'Bad request', `${where}: indicator type is required`);
    const known = this.types.get(t.toLowerCase());
    if (!known) throw new SimError(400, 'bad_request', 'Bad request', `${where}: unknown indicator type "${t}"`);
    return known;
  }

  private fresh(value: string, type: string): SimIndicator {
    const now = iso(this.o.now());
    const id = String(this.nextId++);
    const i: SimIndicator = {
      id,
      version: 0,
      value,
      indicator_type: type,
      score: 0,
      manualScore: false,
      manualSetTime: ZERO_TIME,
      comment: '',
      source: '',
      setBy: '',
      account: '',
      timestamp: now,
      modified: now,
      firstSeen: now,
      lastSeen: now,
      calculatedTime: now,
      expiration: ZERO_TIME,
      expirationStatus: 'active',
      expirationSource: null,
      manualExpirationTime: ZERO_TIME,
      sourceBrands: [],
      sourceInstances: [],
      investigationIDs: [],
      CustomFields: {},
      sortValues: [id.padStart(12, '0')],
      sourceScores: {},
      sourceExpirations: {},
      manuallyEditedFields: [],
    };
    this.byId.set(id, i);
    this.byValue.set(this.key(value), i);
    return i;
  }

  private touch(i: SimIndicator): void {
    const now = iso(this.o.now());
    i.version++;
    i.modified = now;
    i.lastSeen = now;
    i.calculatedTime = now;
  }

  private recalc(i: SimIndicator): void {
    if (!i.manualScore) i.score = Math.max(0, ...Object.values(i.sourceScores));
  }

  /** Validates one raw feed indicator (no side effects); throws SimError 400 naming the item. */
  check(input: unknown, n: number): { value: string; type: string } {
    const raw = clean(input);
    const where = `indicators[${n}]`;
    if (!isRecord(raw)) throw new SimError(400, 'bad_request', 'Bad request', `${where}: must be an object`);
    if (typeof raw.value !== 'string' || raw.value.trim() === '')
      throw new SimError(400, 'bad_request', 'Bad request', `${where}: value is required`);
    const score = raw.score ?? 0;
    if (typeof score !== 'number' || !Number.isInteger(score) || score < 0 || score > 3)
      throw new SimError(400, 'bad_request', 'Bad request', `${where}: score must be 0-3`);
    if (raw.reliability !== undefined && !(RELIABILITIES as readonly string[]).includes(String(raw.reliability)))
      throw new SimError(
        400,
        'bad_request',
        'Bad request',
        `${where}: unknown reliability ${JSON.stringify(raw.reliability)}`,
      );
    const policy = raw.expirationPolicy ?? 'indicatorType';
    if (!EXPIRATION_POLICIES.includes(policy as never))
      throw new SimError(
        400,
        'bad_request',
        'Bad request',
        `${where}: expirationPolicy must be never, interval or indicatorType`,
      );
    if (policy === 'interval' && (typeof raw.expirationInterval !== 'number' || !(raw.expirationInterval > 0)))
      throw new SimError(
        400,
        'bad_request',
        'Bad request',
        `${where}: expirationInterval (minutes) is required with expirationPolicy interval`,
      );
    if (raw.fields !== undefined && !isRecord(raw.fields))
      throw new SimError(400, 'bad_request', 'Bad request', `${where}: fields must be an object`);
    const value = raw.value.trim();
    const existing = this.find(value);
    const type = raw.type === undefined ? existing?.indicator_type : this.checkType(raw.type, where);
    if (!type) throw new SimError(400, 'bad_request', 'Bad request', `${where}: type is required for a new indicator`);
    return { value, type };
  }

  /** `/indicators/feed/json`: ingests one raw feed indicator. Returns false when the value is excluded. */
  ingest(input: unknown, n: number, bypassExclusions: boolean): boolean {
    const { value, type } = this.check(input, n);
    const raw = clean(input) as Record<string, unknown>;
    if (!bypassExclusions && this.exclusions.has(this.key(value))) return false;
    const score = (raw.score ?? 0) as number;
    const brand = raw.sourceBrand === undefined ? 'External' : String(raw.sourceBrand);
    const instance = raw.sourceInstance === undefined ? 'External' : String(raw.sourceInstance);
    const policy = raw.expirationPolicy ?? 'indicatorType';
    const interval = raw.expirationInterval;
    const existing = this.find(value);
    const i = existing ?? this.fresh(value, type);
    i.indicator_type = type;
    i.sourceScores[brand] = score;
    if (!i.sourceBrands.includes(brand)) i.sourceBrands.push(brand);
    if (!i.sourceInstances.includes(instance)) i.sourceInstances.push(instance);
    if (raw.reliability !== undefined) i.reliability = String(raw.reliability);
    if (isRecord(raw.fields)) Object.assign(i.CustomFields, this.known(raw.fields, this.o.feedFields === 'keep'));
    this.touch(i);
    // expiration: a manual expiration wins over the feed's (XSOAR's expiration hierarchy)
    // each source brand's feed sets its own expiration; the indicator stays active while any source
    // does (the latest wins, never beats any time); a manual expiration wins over all (§6.4 hierarchy)
    const minutes =
      policy === 'never' ? 0 : policy === 'interval' ? (interval as number) : this.o.typeExpirationMinutes;
    i.sourceExpirations[brand] = minutes ? iso(this.o.now() + minutes * 60_000) : ZERO_TIME;
    if (i.manualExpirationTime === ZERO_TIME) {
      const all = Object.values(i.sourceExpirations);
      i.expiration = all.includes(ZERO_TIME)
        ? ZERO_TIME
        : all.reduce((a, b) => (Date.parse(a) >= Date.parse(b) ? a : b));
      i.expirationSource = {
        brand,
        instance,
        expirationPolicy: String(policy),
        expirationInterval: minutes,
        setTime: i.modified,
        source: 'feed',
        user: '',
      };
    }
    this.recalc(i);
    return true;
  }

  /** `/indicator/create` (indicatorContext). */
  create(body: unknown): SimIndicator {
    const ctx = clean(body);
    const ioc = clean(isRecord(ctx) ? ctx.indicator : undefined);
    if (!isRecord(ioc)) throw new SimError(400, 'bad_request', 'Bad request', 'indicator is required');
    if (typeof ioc.value !== 'string' || ioc.value.trim() === '')
      throw new SimError(400, 'bad_request', 'Bad request', 'indicator.value is required');
    const value = ioc.value.trim();
    if (this.exclusions.has(this.key(value)))
      throw new SimError(400, 'bad_request', 'Bad request', `indicator ${value} is in the exclusion list`);
    const existing = this.find(value);
    if (existing && this.o.createExisting === 'conflict')
      throw new SimError(409, 'conflict', 'Conflict', `indicator ${value} already exists`);
    const type = this.checkType(ioc.indicator_type ?? existing?.indicator_type, 'indicator');
    const i = existing ?? this.fresh(value, type);
    i.indicator_type = type;
    // an indicator created by hand carries the Manual source
    if (!i.sourceBrands.includes('Manual')) i.sourceBrands.push('Manual');
    this.apply(i, ioc);
    this.touch(i);
    return this.view(i);
  }

  /** `/indicator/edit` (IocObject with id and the current version, or -1). */
  edit(body: unknown): SimIndicator {
    const ioc = clean(body);
    if (!isRecord(ioc) || typeof ioc.id !== 'string')
      throw new SimError(400, 'bad_request', 'Bad request', 'id is required');
    const i = this.byId.get(ioc.id);
    if (!i) throw new SimError(404, 'not_found', 'Not found', `indicator ${ioc.id} not found`);
    const v = ioc.version;
    if (typeof v !== 'number' || !Number.isInteger(v))
      throw new SimError(400, 'bad_request', 'Bad request', 'version is required');
    if (v !== -1 && v !== i.version) {
      throw new SimError(
        this.o.versionConflictStatus,
        'conflict',
        'Conflict',
        `DB version conflict error [indicator ${i.id}: version ${v} is not the current version ${i.version}]`,
      );
    }
    if (ioc.value !== undefined && ioc.value !== i.value)
      throw new SimError(400, 'bad_request', 'Bad request', 'value of an indicator cannot be changed');
    if (ioc.indicator_type !== undefined) i.indicator_type = this.checkType(ioc.indicator_type, 'indicator');
    this.apply(i, ioc);
    this.touch(i);
    return this.view(i);
  }

  private apply(i: SimIndicator, ioc: Record<string, unknown>): void {
    for (const k of ['score', 'comment', 'source', 'CustomFields', 'expiration', 'manualExpirationTime'])
      if (ioc[k] !== undefined && !i.manuallyEditedFields.includes(k)) i.manuallyEditedFields.push(k);
    if (ioc.score !== undefined) {
      if (typeof ioc.score !== 'number' || !Number.isInteger(ioc.score) || ioc.score < 0 || ioc.score > 3)
        throw new SimError(400, 'bad_request', 'Bad request', 'score must be 0-3');
      i.manualScore = ioc.manualScore === true;
      if (i.manualScore) {
        i.score = ioc.score;
        i.manualSetTime = iso(this.o.now());
      } else {
        i.sourceScores.DBot = ioc.score;
      }
    } else if (ioc.manualScore === false) i.manualScore = false;
    if (typeof ioc.comment === 'string') i.comment = ioc.comment;
    if (typeof ioc.source === 'string') i.source = ioc.source;
    if (isRecord(ioc.CustomFields)) Object.assign(i.CustomFields, this.known(ioc.CustomFields, true));
    for (const k of ['expiration', 'manualExpirationTime'] as const) {
      const t = ioc[k];
      if (t === undefined) continue;
      if (typeof t !== 'string' || !Number.isFinite(Date.parse(t)))
        throw new SimError(400, 'bad_request', 'Bad request', `${k} must be an RFC 3339 time`);
      i.expiration = t;
      i.manualExpirationTime = t;
      i.expirationSource = {
        brand: '',
        instance: '',
        expirationPolicy: 'manual',
        expirationInterval: 0,
        setTime: iso(this.o.now()),
        source: 'manual',
        user: 'admin',
      };
    }
    this.recalc(i);
  }

  /** `/indicators/search`. */
  search(filter: unknown, maxSize: number): { iocObjects: SimIndicator[]; total: number } {
    const f = isRecord(filter) ? (clean(filter) as Record<string, unknown>) : {};
    let pred: (g: (f: string) => unknown) => boolean;
    try {
      pred = parseQuery(typeof f.query === 'string' ? f.query : '');
    } catch (e) {
      if (e instanceof QueryError) throw new SimError(400, 'bad_request', 'Bad request', e.message);
      throw e;
    }
    const size = Math.min(maxSize, typeof f.size === 'number' && f.size > 0 ? Math.floor(f.size) : 0);
    const page = typeof f.page === 'number' && f.page > 0 ? Math.floor(f.page) : 0;
    const after = Array.isArray(f.searchAfter) && typeof f.searchAfter[0] === 'string' ? f.searchAfter[0] : undefined;
    const all: SimIndicator[] = [];
    for (const i of this.byId.values()) {
      this.view(i);
      if (pred((k) => field(i, k))) all.push(i);
    }
    const rest = after !== undefined ? all.filter((i) => first(i.sortValues) > after) : all.slice(page * size);
    return { iocObjects: rest.slice(0, size), total: all.length };
  }

  /** `/indicators/batchDelete`: deletes, and unless `doNotWhitelist` adds the values to the exclusion list. */
  batchDelete(input: unknown, limit = Infinity): { updatedIds: string[]; notUpdated: number } {
    const body = clean(input);
    if (!isRecord(body))
      throw new SimError(400, 'bad_request', 'Bad request', 'Request body is not well-formed. It must be JSON.');
    let targets: string[];
    if (body.all === true)
      targets = this.search(
        { ...(isRecord(body.filter) ? body.filter : {}), size: Number.MAX_SAFE_INTEGER, page: 0 },
        Number.MAX_SAFE_INTEGER,
      ).iocObjects.map((i) => i.id);
    else if (Array.isArray(body.ids) && body.ids.every((x) => typeof x === 'string')) targets = body.ids as string[];
    else
      throw new SimError(
        400,
        'bad_request',
        'Bad request',
        'ids must be a list of indicator ids (or all: true with a filter)',
      );
    const exclude = body.doNotWhitelist !== true;
    const reason = typeof body.reason === 'string' ? body.reason : '';
    const updatedIds: string[] = [];
    let notUpdated = 0;
    for (const id of targets) {
      const i = this.byId.get(id);
      if (!i || updatedIds.length >= limit) {
        notUpdated++;
        continue;
      }
      this.byId.delete(id);
      this.byValue.delete(this.key(i.value));
      if (exclude) this.exclusions.set(this.key(i.value), { value: i.value, reason, at: iso(this.o.now()) });
      updatedIds.push(id);
    }
    return { updatedIds, notUpdated };
  }

  /** `/indicator/whitelist`: adds a value to the exclusion list (and deletes its indicator), or only deletes it with doNotWhitelist. */
  whitelist(input: unknown): { updatedIds: string[]; notUpdated: number } {
    const body = clean(input);
    if (!isRecord(body) || typeof body.value !== 'string')
      throw new SimError(400, 'bad_request', 'Bad request', 'value is required');
    const i = this.find(body.value);
    if (i) {
      this.byId.delete(i.id);
      this.byValue.delete(this.key(i.value));
    }
    if (body.doNotWhitelist !== true)
      this.exclusions.set(this.key(body.value), {
        value: body.value,
        reason: typeof body.reason === 'string' ? body.reason : '',
        at: iso(this.o.now()),
      });
    return { updatedIds: i ? [i.id] : [], notUpdated: i ? 0 : 1 };
  }
}

function field(i: SimIndicator, k: string): unknown {
  switch (k) {
    case 'type':
    case 'indicator_type':
      return i.indicator_type;
    case 'verdict':
      return ['Unknown', 'Benign', 'Suspicious', 'Malicious'][i.score];
    default:
      if (k in i) return (i as unknown as Record<string, unknown>)[k];
      return i.CustomFields[k.toLowerCase()];
  }
}
