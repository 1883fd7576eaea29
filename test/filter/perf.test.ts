/**
 * Load time and match rate with every corpus warninglist. Prints the numbers; the floors are far
 * below what an idle machine reaches so that a loaded CI runner does not fail spuriously, yet a
 * quadratic regression still does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { buildWarninglistMatcher } from '../../src/filter/warninglists.js';
import { PublishFilter } from '../../src/filter/policy.js';
import { normaliseObservable } from '../../src/core/observable.js';
import type { Observable, ObservableType } from '../../src/core/stix.js';
import { SKIP, WL_DIR, raw } from './corpus-helpers.js';

function workload(n: number): Observable[] {
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
      case 0: add('ipv4-addr', rnd(2) ? dns[rnd(dns.length)] : `${1 + rnd(223)}.${rnd(256)}.${rnd(256)}.${rnd(256)}`); break;
      case 1: add('ipv6-addr', `2001:${rnd(0xffff).toString(16)}:${rnd(0xffff).toString(16)}::${rnd(0xffff).toString(16)}`); break;
      case 2: add('domain-name', rnd(2) ? `www.${hosts[rnd(hosts.length)]}` : `host${rnd(1e6)}.example-${rnd(1000)}.net`); break;
      case 3: add('url', `https://${rnd(2) ? hosts[rnd(hosts.length)] : `x${rnd(1e6)}.example.org`}/path/${rnd(1e6)}/index.php?id=${rnd(1e6)}`); break;
      case 4: add('email-addr', `${['abuse', 'user', 'noc', 'j.smith'][rnd(4)]}@${hosts[rnd(hosts.length)]}`); break;
      default: add('file', rnd(1e6).toString(16).padStart(64, 'a'));
    }
  }
  return out;
}

test('all corpus lists: load time and match rate', { skip: SKIP }, async () => {
  const t0 = performance.now();
  const r = await buildWarninglistMatcher({ paths: [WL_DIR] });
  const loadMs = performance.now() - t0;
  assert.deepEqual(r.problems, []);
  const st = r.matcher.stats();
  assert.equal(st.lists, 29);
  const values = workload(60_000);
  const f = new PublishFilter({ warninglists: r.matcher });
  let withheld = 0;
  f.check(values[0], []); // warm-up
  const t1 = performance.now();
  for (const v of values) if (!f.check(v, ['feed']).publish) withheld++;
  const ms = performance.now() - t1;
  const rate = Math.round(values.length / (ms / 1000));
  console.log(
    `warninglists: ${st.lists} lists (${st.inert.length} inert), ${st.entries} entries ${JSON.stringify(st.byType)}; load ${loadMs.toFixed(0)} ms; ` +
      `${values.length} checks in ${ms.toFixed(0)} ms = ${rate}/s, ${withheld} withheld; heap ${(process.memoryUsage().heapUsed / 1048576).toFixed(0)} MB`,
  );
  assert.ok(withheld > values.length / 10 && withheld < values.length, `a realistic share is withheld (${withheld})`);
  assert.ok(loadMs < 10_000, `load ${loadMs} ms`);
  assert.ok(rate > 5_000, `rate ${rate}/s`);
});
