/**
 * A realistic warninglist workload for the corpus lists: public resolvers and popular hosts mixed
 * with random addresses, domains, URLs, e-mail addresses and hashes (seeded, so every run checks
 * the same values). Used by the corpus test and by the warninglist benchmark.
 */
import { normaliseObservable } from '../../src/core/observable.js';
import type { Observable, ObservableType } from '../../src/core/stix.js';
import { raw } from './corpus-helpers.js';
import { must } from '../helpers/must.js';

export function workload(n: number): Observable[] {
  const dns = raw('public-dns-v4').list;
  const hosts = raw('tranco10k').list;
  const out: Observable[] = [];
  let seed = 7;
  const rnd = (k: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
    return seed % k;
  };
  const add = (t: ObservableType, v: string) => {
    const r = normaliseObservable(t, v);
    if (r.ok) out.push(r.observable);
  };
  while (out.length < n) {
    switch (rnd(6)) {
      case 0:
        add(
          'ipv4-addr',
          rnd(2)
            ? must(dns[rnd(dns.length)], 'dns[rnd(dns.length)]')
            : `${1 + rnd(223)}.${rnd(256)}.${rnd(256)}.${rnd(256)}`,
        );
        break;
      case 1:
        add('ipv6-addr', `2001:${rnd(0xffff).toString(16)}:${rnd(0xffff).toString(16)}::${rnd(0xffff).toString(16)}`);
        break;
      case 2:
        add('domain-name', rnd(2) ? `www.${hosts[rnd(hosts.length)]}` : `host${rnd(1e6)}.example-${rnd(1000)}.net`);
        break;
      case 3:
        add(
          'url',
          `https://${rnd(2) ? hosts[rnd(hosts.length)] : `x${rnd(1e6)}.example.org`}/path/${rnd(1e6)}/index.php?id=${rnd(1e6)}`,
        );
        break;
      case 4:
        add('email-addr', `${['abuse', 'user', 'noc', 'j.smith'][rnd(4)]}@${hosts[rnd(hosts.length)]}`);
        break;
      default:
        add('file', rnd(1e6).toString(16).padStart(64, 'a'));
    }
  }
  return out;
}
