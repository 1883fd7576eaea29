/**
 * The vendor formats of firewall lists (docs/edl.md cites each vendor's documentation): which
 * kinds of list a vendor takes, and how one canonical observable becomes one line of it, or why
 * it cannot (a value the device would misread is left out and counted, never bent into
 * something else).
 *
 *  - Palo Alto Networks PAN-OS external dynamic lists: one entry per line. IP lists take an
 *    address, `address/mask` or `start-end`, and everything after a space is a comment. Domain
 *    and URL lists take no `http://`/`https://` prefix; `.` `/` `?` `&` `=` `;` `+` separate
 *    tokens, and a token that is `*` or `^` is a wildcard, so a value holding either character
 *    is left out; an entry is at most 255 characters. No hash lists.
 *  - Fortinet FortiGate threat feeds: one entry per line; IP Address (address, range, subnet,
 *    IPv4 or IPv6), Domain Name (simple wildcards), FortiGuard Category (URLs; `*` at the start
 *    or end is a wildcard; IPv6 hosts in brackets), Malware Hash (one MD5, SHA-1 or SHA-256 per
 *    line; the vendor advises one algorithm per list). `#` starts a comment line. 131,072
 *    entries or 10 MB per file, whichever comes first.
 *  - Check Point network feeds (R81.20+, `feed-format: Flat List`): one IP address or domain per
 *    line (`feed-type` IP Address or Domain), read from `data-column` 1; comment lines are the
 *    ones `ignore-lines-that-start-with` names (we emit none).
 *  - `plain`: the canonical value, one per line, every kind.
 */
import type { Observable } from '../core/stix.js';

export const EDL_FORMATS = ['paloalto', 'fortinet', 'checkpoint', 'plain'] as const;
export type EdlFormat = (typeof EDL_FORMATS)[number];

/** The kinds of list: one per observable type a firewall matches on (hashes one per algorithm). */
export const EDL_KINDS = ['ip', 'domain', 'url', 'md5', 'sha1', 'sha256'] as const;
export type EdlKind = (typeof EDL_KINDS)[number];

/** The kinds each vendor takes. */
export const FORMAT_KINDS: Readonly<Record<EdlFormat, readonly EdlKind[]>> = {
  paloalto: ['ip', 'domain', 'url'],
  fortinet: ['ip', 'domain', 'url', 'md5', 'sha1', 'sha256'],
  checkpoint: ['ip', 'domain'],
  plain: EDL_KINDS,
};

/**
 * Entries per list by default: PAN-OS 7.1 caps IP, URL and domain lists at 50,000 entries each
 * per platform (later models take more: raise `max_entries`); FortiOS loads 131,072 entries per
 * feed. Check Point documents no number; 50,000 keeps a gateway's feed small.
 */
export const DEFAULT_MAX_ENTRIES: Readonly<Record<EdlFormat, number>> = {
  paloalto: 50_000,
  fortinet: 131_072,
  checkpoint: 50_000,
  plain: 1_000_000,
};

/** Bytes per list by default (FortiOS: 10 MB per feed file); 0: no byte cap. */
export const DEFAULT_MAX_BYTES: Readonly<Record<EdlFormat, number>> = {
  paloalto: 0,
  fortinet: 10 * 1024 * 1024,
  checkpoint: 0,
  plain: 0,
};

/** Why a value has no line in a list (a bounded label of `stixgate_edl_values_skipped_total`). */
export type SkipReason = 'wildcard_character' | 'too_long' | 'scheme' | 'comment_character';

export type LineResult = { kind: EdlKind; line: string } | { kind: EdlKind; skip: SkipReason } | undefined;

const HASH_KIND: Record<number, EdlKind> = { 32: 'md5', 40: 'sha1', 64: 'sha256' };

/** The kind of list an observable belongs in, or undefined (e-mail, certificates, SHA-512). */
export function kindOf(o: Observable): EdlKind | undefined {
  switch (o.type) {
    case 'ipv4-addr':
    case 'ipv6-addr':
      return 'ip';
    case 'domain-name':
      return 'domain';
    case 'url':
      return 'url';
    case 'file':
      return HASH_KIND[o.value.length];
    default:
      return undefined;
  }
}

const PANOS_MAX_ENTRY = 255;
const SCHEME_RE = /^https?:\/\//i;

/**
 * The line of `o` in a list of `format`, or why there is none; undefined when the vendor has no
 * list of the observable's kind. `subdomains` adds the vendor's subdomain wildcard to domains
 * (see `domainLines`).
 */
export function lineOf(format: EdlFormat, o: Observable): LineResult {
  const kind = kindOf(o);
  if (kind === undefined || !FORMAT_KINDS[format].includes(kind)) return undefined;
  const v = o.value;
  switch (format) {
    case 'paloalto':
      return { kind, ...panos(kind, v) };
    case 'fortinet':
      return { kind, ...fortinet(kind, v) };
    case 'checkpoint':
    case 'plain':
      return { kind, line: v };
  }
}

function panos(kind: EdlKind, v: string): { line: string } | { skip: SkipReason } {
  if (kind === 'ip') return { line: v };
  let entry = v;
  if (kind === 'url') {
    if (!SCHEME_RE.test(v)) return { skip: 'scheme' };
    entry = v.replace(SCHEME_RE, '');
  }
  if (entry.includes('*') || entry.includes('^')) return { skip: 'wildcard_character' };
  if (entry.length > PANOS_MAX_ENTRY) return { skip: 'too_long' };
  return { line: entry };
}

function fortinet(kind: EdlKind, v: string): { line: string } | { skip: SkipReason } {
  if (kind !== 'url' && kind !== 'domain') return { line: v };
  if (v.startsWith('#')) return { skip: 'comment_character' };
  // a `*` at either end is a wildcard to FortiOS
  if (v.startsWith('*') || v.endsWith('*')) return { skip: 'wildcard_character' };
  return { line: v };
}

/**
 * The lines a listed domain contributes: itself, and with `subdomains` also the vendor's wildcard
 * for every name below it (`*.example.com` on PAN-OS and FortiOS; Check Point and plain lists
 * have no wildcard syntax, so the domain alone).
 */
export function domainLines(format: EdlFormat, line: string, subdomains: boolean): string[] {
  // a DNS name has at most 253 characters, so `*.` keeps it within PAN-OS's 255
  if (!subdomains || (format !== 'paloalto' && format !== 'fortinet')) return [line];
  return [line, `*.${line}`];
}
