/**
 * The ingest allowlist (`allowlist:`): values that never become indicators. Entries are plain
 * values typed like publish-allowlist entries and matched by the same matcher as warninglists: an
 * IP or CIDR covers every address and range inside it, a domain covers itself, its subdomains and
 * the URLs and e-mail addresses on them, any other value matches its canonical form.
 */
import type { Observable } from '../core/stix.js';
import { compileAllowlist } from './allowlist.js';
import type { WarninglistMatcher } from './matcher.js';

export class Allowlist {
  private readonly matcher: WarninglistMatcher;
  /** Entries ignored, each as `allowlist[i]: reason`. */
  readonly invalid: string[];
  /** Entries in force. */
  readonly size: number;

  constructor(entries: readonly string[]) {
    const { matcher, issues } = compileAllowlist(entries, 'allowlist');
    this.matcher = matcher;
    this.invalid = issues.map((i) => `${i.path}: ${i.message}`);
    this.size = entries.length - issues.length;
  }

  /** True when the observable is covered by an entry. */
  covers(o: Observable): boolean {
    return this.size > 0 && this.matcher.match(o).length > 0;
  }
}
