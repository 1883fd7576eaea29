import type { Observable } from '../core/stix.js';
import { detectObservable, parseIpv4, parseIpv6 } from '../core/observable.js';

/**
 * The user allowlist: values that must never become indicators. Entries are canonicalised like
 * indicator values; an IP or CIDR entry covers every address inside it, a domain entry covers the
 * domain and its subdomains (and URLs on them), other values match exactly.
 */
export class Allowlist {
  private readonly exact = new Set<string>();
  private readonly domains = new Set<string>();
  private readonly v4: { net: number; mask: number }[] = [];
  private readonly v6: { words: Uint16Array; bits: number }[] = [];
  readonly invalid: string[] = [];

  constructor(entries: readonly string[]) {
    for (const raw of entries) {
      const r = detectObservable(raw);
      if (!r.ok) {
        this.invalid.push(`${raw}: ${r.message}`);
        continue;
      }
      this.add(r.observable);
    }
  }

  get size(): number {
    return this.exact.size + this.domains.size + this.v4.length + this.v6.length;
  }

  private add(o: Observable): void {
    if (o.type === 'domain-name') this.domains.add(o.value);
    else if (o.type === 'ipv4-addr' || o.type === 'ipv6-addr') {
      const [addr, len] = o.value.split('/');
      if (o.type === 'ipv4-addr') {
        const n = parseIpv4(addr)!;
        const bits = len === undefined ? 32 : Number(len);
        const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
        this.v4.push({ net: (n & mask) >>> 0, mask });
      } else {
        this.v6.push({ words: parseIpv6(addr)!, bits: len === undefined ? 128 : Number(len) });
      }
    } else this.exact.add(`${o.type}:${o.value}`);
  }

  /** True when the observable is covered by an entry. */
  covers(o: Observable): boolean {
    if (this.size === 0) return false;
    if (this.exact.has(`${o.type}:${o.value}`)) return true;
    switch (o.type) {
      case 'domain-name':
        return this.coversHost(o.value);
      case 'url': {
        const host = urlHost(o.value);
        return host !== undefined && (this.coversHost(host) || this.coversIp(host));
      }
      case 'email-addr': {
        const at = o.value.lastIndexOf('@');
        return at > 0 && this.coversHost(o.value.slice(at + 1));
      }
      case 'ipv4-addr':
      case 'ipv6-addr':
        return this.coversIp(o.value);
      default:
        return false;
    }
  }

  private coversHost(host: string): boolean {
    if (this.domains.size === 0) return false;
    let h = host;
    for (;;) {
      if (this.domains.has(h)) return true;
      const dot = h.indexOf('.');
      if (dot < 0) return false;
      h = h.slice(dot + 1);
    }
  }

  private coversIp(value: string): boolean {
    const [addr, len] = value.replace(/^\[|\]$/g, '').split('/');
    const n = parseIpv4(addr);
    if (n !== undefined) {
      const bits = len === undefined ? 32 : Number(len);
      const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
      // a listed range is covered only when the allowlisted range contains all of it
      return this.v4.some((e) => e.mask >>> 0 <= mask && ((n & e.mask) >>> 0) === e.net);
    }
    const w = parseIpv6(addr);
    if (!w) return false;
    const bits = len === undefined ? 128 : Number(len);
    return this.v6.some((e) => e.bits <= bits && prefixEqual(e.words, w, e.bits));
  }
}

function prefixEqual(a: Uint16Array, b: Uint16Array, bits: number): boolean {
  for (let i = 0; i < 8 && bits > 0; i++, bits -= 16) {
    const m = bits >= 16 ? 0xffff : (0xffff << (16 - bits)) & 0xffff;
    if ((a[i] & m) !== (b[i] & m)) return false;
  }
  return true;
}

function urlHost(url: string): string | undefined {
  const m = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)/.exec(url);
  return m ? m[1] : undefined;
}
