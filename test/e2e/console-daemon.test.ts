import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Daemon } from '../../src/daemon.js';
import { registry } from '../../integrations/index.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { until } from '../helpers/until.js';
import { must } from '../helpers/must.js';
import { splunkRig, writeRigConfig } from '../helpers/splunk-rig.js';

/**
 * The console as the daemon serves it (embedded store, a text_list source, a Splunk KV sink on the
 * simulator): signed in through the form over real HTTP, the sources page shows the run the admin
 * API started, the sinks page the pushed cursor with no lag, and the why page each value present in
 * the sink since the push, with the source that put it there.
 */
const KEY = 'k-console-e2e-3b2a1f0e9d8c7b6a5f4e';
const VIEWER = 'k-console-e2e-viewer-7c6b5a4f3e2d1c0b';
const VALUES = ['198.51.100.1', '198.51.100.2', '198.51.100.3'];

test('console served by the daemon: sign-in over HTTP, sources after a run, sinks after a push, the why of each value', {
  timeout: 120_000,
}, async (t) => {
  const { splunk, base, dir } = await splunkRig(t, 'stixgate-console-e2e-');
  writeFileSync(join(dir, 'list.txt'), `${VALUES.join('\n')}\n`);
  const configFile = writeRigConfig(dir, base, {
    keys: {
      ops: { key: KEY, scopes: ['admin', 'search', 'lookup'], maxTlp: 'amber' },
      viewer: { key: VIEWER, scopes: ['search', 'lookup'], maxTlp: 'amber' },
    },
    sections: [
      'sources:',
      `  feed: { type: text_list, url: "file://${join(dir, 'list.txt')}", interval_secs: 3600, run_on_start: false, tlp: green }`,
    ],
    sink: ['max_tlp: amber'],
  });
  const daemon = new Daemon({ configPath: configFile, registry, logger: silentLogger(), port: 0 });
  await daemon.start();
  t.after(() => daemon.stop());
  const api = (method: string, path: string) =>
    fetch(`${daemon.address}${path}`, { method, headers: { authorization: `Bearer ${KEY}` } });
  await until(
    'the sink start-up run',
    async () =>
      ((await (await api('GET', '/api/v1/admin/sinks/kv')).json()) as { last_run?: { outcome: string } }).last_run
        ?.outcome === 'success',
  );
  assert.equal((await api('POST', '/api/v1/admin/sources/feed/run')).status, 200);
  assert.equal((await api('POST', '/api/v1/admin/sinks/kv/push')).status, 200);

  // sign in as a browser does: the form's cookie and token, then the session cookie
  const form = await fetch(`${daemon.address}/console/login`, { headers: { accept: 'text/html' } });
  const login = /stixgate_console_login=([^;]+)/.exec(form.headers.get('set-cookie') ?? '')?.[1];
  const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())?.[1];
  assert.ok(login && csrf);
  const signed = await fetch(`${daemon.address}/console/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      accept: 'text/html',
      'content-type': 'application/x-www-form-urlencoded',
      cookie: `stixgate_console_login=${login}`,
      origin: daemon.address,
    },
    body: new URLSearchParams({ key: KEY, csrf, next: '/console/sources' }).toString(),
  });
  assert.equal(signed.status, 303);
  assert.equal(signed.headers.get('location'), '/console/sources');
  const session = /stixgate_console=([^;]+)/.exec(signed.headers.get('set-cookie') ?? '')?.[1];
  assert.ok(session);
  const page = async (path: string) => {
    const res = await fetch(`${daemon.address}${path}`, {
      headers: { accept: 'text/html', cookie: `stixgate_console=${session}` },
    });
    assert.equal(res.status, 200, path);
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    return res.text();
  };

  const sources = await page('/console/sources');
  const feed = /<tr id="source-feed">.*?<\/tr>/s.exec(sources)?.[0] ?? '';
  assert.match(feed, /<td>text_list<\/td><td class="ok">ok<\/td>/);
  assert.match(feed, /<span class="muted">created<\/span> 3/);

  const sinks = await page('/console/sinks');
  const kv = /<tr id="sink-kv">.*?<\/tr>/s.exec(sinks)?.[0] ?? '';
  const [cursor, head, lag, dead] = [...kv.matchAll(/<td class="num[^"]*">([^<]*)<\/td>/g)].map((m) => m[1]);
  assert.ok(Number(cursor) > 0, kv);
  assert.equal(cursor, head, 'the push delivered everything');
  assert.equal(lag, '0');
  assert.equal(dead, '0', 'no dead letters');

  for (const v of VALUES) {
    const why = await page(`/console/why?value=${v}`);
    assert.match(
      why,
      /<tr class="delivery"><td class="value">kv<\/td><td>ipv4-addr<\/td><td class="ok">present<\/td><td>pushed<\/td>/,
      v,
    );
    assert.match(why, /<span class="value">feed<\/span> <span class="tlp tlp-green">TLP:GREEN<\/span>/, v);
  }
  // drift injected on the product: a value deleted there, a foreign entry added; the plan page lists both, changes nothing
  const docs = must(
    splunk.collection('search', 'stixgate_indicators'),
    "splunk.collection('search', 'stixgate_indicators')",
  ).docs;
  const [gone] = must(
    [...docs.entries()].find(([, d]) => d.indicator === '198.51.100.2'),
    "[...docs.entries()].find(([, d]) => d.indicator === '198....",
  );
  docs.delete(gone);
  docs.set('foreign-1', { _key: 'foreign-1', indicator: '<b>203.0.113.9</b>' });
  const plan = await page('/console/sinks/kv/plan');
  assert.match(plan, /<tr><th>in sync<\/th><td>2<\/td><\/tr><tr><th>missing<\/th><td class="warn">1<\/td><\/tr>/);
  assert.match(/<table class="plan-missing">.*?<\/table>/s.exec(plan)?.[0] ?? '', /198\.51\.100\.2/);
  assert.match(
    /<table class="plan-foreign">.*?<\/table>/s.exec(plan)?.[0] ?? '',
    /&#60;b&#62;203\.0\.113\.9&#60;\/b&#62;/,
    'a remote label as text',
  );
  assert.equal(docs.size, 3, 'a plan changes nothing');
  const after = /<tr id="sink-kv">.*?<\/tr>/s.exec(await page('/console/sinks'))?.[0] ?? '';
  assert.match(after, /<span class="warn">missing 1<\/span>/, 'the drift gauge the plan set');
  assert.match(after, /foreign 1 \(left alone\)/);

  const found = await page('/console/search?value=198.51.100.2');
  assert.equal((found.match(/href="\/console\/objects\//g) ?? []).length, 1);

  // the Plan and Reconcile buttons of the sinks page: forms with the session's CSRF token
  const buttons = /<tr id="sink-kv">.*?<\/tr>/s.exec(await page('/console/sinks'))?.[0] ?? '';
  const token = /action="\/console\/sinks\/kv\/reconcile"><input type="hidden" name="csrf" value="([^"]+)"/.exec(
    buttons,
  )?.[1];
  assert.ok(token, buttons);
  assert.match(buttons, /action="\/console\/sinks\/kv\/plan"/);
  const post = (path: string, form: Record<string, string>, cookie = `stixgate_console=${session}`) =>
    fetch(`${daemon.address}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        accept: 'text/html',
        'content-type': 'application/x-www-form-urlencoded',
        cookie,
        origin: daemon.address,
      },
      body: new URLSearchParams(form).toString(),
    });
  const planned = await post('/console/sinks/kv/plan', { csrf: token });
  assert.equal(planned.status, 200);
  const planPage = await planned.text();
  assert.match(planPage, /<tr><th>missing<\/th><td class="warn">1<\/td><\/tr>/);
  assert.equal(docs.size, 3, 'the Plan button changes nothing');
  assert.equal((await post('/console/sinks/kv/reconcile', {})).status, 403, 'no CSRF token: refused');
  assert.equal((await post('/console/sinks/kv/reconcile', { csrf: 'forged' })).status, 403, 'a forged token');
  assert.equal(docs.size, 3, 'nothing reconciled by a refused form');
  const done = await post('/console/sinks/kv/reconcile', { csrf: token });
  assert.equal(done.status, 200);
  const outcome = await done.text();
  assert.match(outcome, /id="reconcile-done"/);
  assert.match(
    /<table class="kv" id="reconcile-outcome">.*?<\/table>/s.exec(outcome)?.[0] ?? '',
    /<th>written \(missing and stale entries\)<\/th><td class="num">1<\/td>.*<th>removed \(extra entries\)<\/th><td class="num">0<\/td>/s,
  );
  assert.equal(docs.size, 4, 'the missing value is back');
  assert.ok([...docs.values()].some((d) => d.indicator === '198.51.100.2'));
  assert.ok(docs.has('foreign-1'), 'the foreign entry is left alone');
  const clean = await post('/console/sinks/kv/plan', { csrf: token });
  assert.match(await clean.text(), /<tr><th>missing<\/th><td class="">0<\/td><\/tr>/, 'a second plan is empty');

  // a key without the admin scope: no sinks page, no button anywhere, and the POST is refused
  const asViewer = { accept: 'text/html', authorization: `Bearer ${VIEWER}` };
  const viewerSinks = await fetch(`${daemon.address}/console/sinks`, { headers: asViewer });
  assert.equal(viewerSinks.status, 403);
  assert.doesNotMatch(await viewerSinks.text(), /reconcile/);
  const viewerSearch = await (await fetch(`${daemon.address}/console/search`, { headers: asViewer })).text();
  assert.doesNotMatch(viewerSearch, /\/reconcile"/);
  for (const action of ['plan', 'reconcile']) {
    const refused = await fetch(`${daemon.address}/console/sinks/kv/${action}`, {
      method: 'POST',
      headers: { ...asViewer, 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    assert.equal(refused.status, 403, action);
  }
  assert.equal(docs.size, 4);
});
