/**
 * The publish decision: a value on a warninglist is withheld from sinks (it stays in the store,
 * flagged) unless one of the sources that delivered it is trusted; a value on the publish
 * allowlist, or on the ingest allowlist (values stored before their entry was added), is always
 * withheld. Counts withheld values per list, for the
 * `stixgate_publish_filtered_total{list}` counter (list names are bounded by configuration).
 */
import { createHash } from 'node:crypto';
import type { Observable } from '../core/stix.js';
import type { WarninglistMatcher, WarninglistHit } from './matcher.js';
import { compileAllowlist, type AllowlistEntry, type AllowlistIssue } from './allowlist.js';

export interface FilterHit extends WarninglistHit {
  /** `warninglist`: false-positive list (a trusted source overrides it); `allowlist`: never published. */
  source: 'warninglist' | 'allowlist';
}

export interface PublishDecision {
  publish: boolean;
  hits: FilterHit[];
  /** Names of the lists that withheld the value (empty when published). */
  lists: string[];
  /** True when a trusted source overrode warninglist hits. */
  trusted: boolean;
}

export interface PublishFilterOptions {
  warninglists?: WarninglistMatcher;
  allowlist?: readonly AllowlistEntry[];
  /** Ids of sources marked `trusted: true`. */
  trustedSources?: Iterable<string>;
  /** The ingest allowlist's entries (`allowlist:`): values already stored when an entry is added are withheld too. */
  ingestAllowlist?: readonly string[];
}

/** The decision for a value on no list (shared and frozen: callers must not mutate decisions). */
const NONE: PublishDecision = Object.freeze({
  publish: true,
  hits: Object.freeze([]) as unknown as FilterHit[],
  lists: Object.freeze([]) as unknown as string[],
  trusted: false,
});

export class PublishFilter {
  private warninglists: WarninglistMatcher | undefined;
  private readonly allow: WarninglistMatcher;
  private readonly ingestAllow: WarninglistMatcher;
  private readonly trusted: Set<string>;
  /** Values withheld, per list name, since start (or the last `drainCounts`). */
  readonly withheld = new Map<string, number>();
  /** Values published despite warninglist hits because a trusted source delivered them, per list name. */
  readonly overridden = new Map<string, number>();
  /** Allowlist entries that could not be compiled (also reported by the config schema). */
  readonly issues: AllowlistIssue[];

  constructor(opts: PublishFilterOptions = {}) {
    this.warninglists = opts.warninglists;
    const a = compileAllowlist(opts.allowlist ?? []);
    this.allow = a.matcher;
    this.issues = a.issues;
    // the ingest allowlist's own problems are reported where it is applied (src/filter/ingest-allowlist.ts)
    this.ingestAllow = compileAllowlist(opts.ingestAllowlist ?? [], 'allowlist', 'allowlist').matcher;
    this.trusted = new Set(opts.trustedSources ?? []);
  }

  /**
   * What the decisions depend on, hashed: the warninglists, both allowlists and the trusted
   * sources. A sink that last ran under another fingerprint withdraws what is now withheld.
   */
  get fingerprint(): string {
    return createHash('sha256')
      .update(
        [
          this.warninglists?.fingerprint ?? '',
          this.allow.fingerprint,
          this.ingestAllow.fingerprint,
          ...[...this.trusted].sort(),
        ].join('\n'),
      )
      .digest('hex');
  }

  /** Swaps in freshly loaded warninglists (periodic refresh); counters are kept. */
  setWarninglists(m: WarninglistMatcher | undefined): void {
    this.warninglists = m;
  }

  /** True when any list or allowlist entry is loaded (otherwise no value can hit). */
  get active(): boolean {
    return this.allow.size > 0 || this.ingestAllow.size > 0 || (this.warninglists?.size ?? 0) > 0;
  }

  /** The warninglists in use. */
  get lists(): WarninglistMatcher | undefined {
    return this.warninglists;
  }

  /** Every list the value is on, regardless of trust (for flagging lookups and the store). */
  hits(o: Observable): FilterHit[] {
    const out: FilterHit[] = [];
    if (this.allow.size) for (const h of this.allow.match(o)) out.push({ ...h, source: 'allowlist' });
    if (this.ingestAllow.size) for (const h of this.ingestAllow.match(o)) out.push({ ...h, source: 'allowlist' });
    if (this.warninglists?.size) for (const h of this.warninglists.match(o)) out.push({ ...h, source: 'warninglist' });
    return out;
  }

  /** Whether a sink may publish `o`, delivered by `sources` (source ids); counts the outcome. */
  check(o: Observable, sources: readonly string[]): PublishDecision {
    const d = this.judge(o, sources);
    if (d.trusted) for (const h of d.hits) bump(this.overridden, h.list);
    for (const l of d.lists) bump(this.withheld, l);
    return d;
  }

  /** The same decision as `check`, not counted (for readers that judge a value again at every change, such as firewall lists). */
  judge(o: Observable, sources: readonly string[]): PublishDecision {
    const hits = this.hits(o);
    if (hits.length === 0) return NONE;
    // hits under a PSL private-section suffix are reported, never withheld (docs/warninglists.md)
    const withholding = hits.some((h) => h.private_suffix === undefined);
    if (!withholding) return { publish: true, hits, lists: [], trusted: false };
    const allowHit = hits.some((h) => h.source === 'allowlist');
    if (!allowHit && sources.some((s) => this.trusted.has(s))) return { publish: true, hits, lists: [], trusted: true };
    return {
      publish: false,
      hits,
      lists: [...new Set(hits.filter((h) => h.private_suffix === undefined).map((h) => h.list))],
      trusted: false,
    };
  }

  /** The counts since the previous call (for incrementing a Prometheus counter), then resets them. */
  drainCounts(): { withheld: Map<string, number>; overridden: Map<string, number> } {
    const out = { withheld: new Map(this.withheld), overridden: new Map(this.overridden) };
    this.withheld.clear();
    this.overridden.clear();
    return out;
  }
}

function bump(m: Map<string, number>, key: string): void {
  m.set(key, (m.get(key) ?? 0) + 1);
}
