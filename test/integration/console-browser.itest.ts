import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { PROJECT_ROOT } from '../helpers/corpus.js';
import {
  ATTR_PAYLOAD,
  IDS,
  KEYS,
  LABEL_PAYLOAD,
  NAME_PAYLOAD,
  SCRIPT_PAYLOAD,
  VENDOR_PAYLOAD,
  consoleRig,
} from '../server/console/rig.js';
import { must } from '../helpers/must.js';
import { SplunkSimulator } from '../../integrations/splunk/simulator.js';

/**
 * The console in a real headless Chromium (Debian's package; scripts/chromium.sh installs it and
 * exports STIXGATE_CHROMIUM), driven by playwright-core, against a server on loopback over a real
 * embedded store holding hostile feed text. Every page is screenshotted to test-output/console/
 * (ignored by git) so a person can look at them.
 */

/** What a test reads inside a page (the project compiles without the DOM's types). */
type InPage = { document: { title: string; cookie: string }; __pwned?: number };

const SHOTS = join(PROJECT_ROOT, 'test-output', 'console');
const CHROMIUM = process.env.STIXGATE_CHROMIUM ?? '/usr/bin/chromium';

describe('console in a headless browser', () => {
  let rig: Awaited<ReturnType<typeof consoleRig>>;
  let base: string;
  let browser: Browser;
  /** The rig's sink signs in as u/p. */
  const splunk = new SplunkSimulator({ users: { u: 'p' } });
  /** Script effects and dialogs seen in any page: a payload that ran would leave one. */
  const ran: string[] = [];

  before(async () => {
    assert.ok(
      existsSync(CHROMIUM),
      `no Chromium at ${CHROMIUM}: run scripts/chromium.sh (scripts/integration.sh does)`,
    );
    mkdirSync(SHOTS, { recursive: true });
    // the sink's product, for the Plan and Reconcile buttons
    rig = await consoleRig({ sinkUrl: (await splunk.start()).base });
    base = await rig.app.listen({ host: '127.0.0.1', port: 0 });
    // as root a sandbox cannot start; the page runs no script of ours either way
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  });
  after(async () => {
    await browser?.close();
    await rig?.close();
    await splunk.close();
  });

  async function context(javaScriptEnabled: boolean): Promise<BrowserContext> {
    const c = await browser.newContext({ javaScriptEnabled, viewport: { width: 1400, height: 900 } });
    c.on('page', (p) => watch(p));
    return c;
  }
  function watch(p: Page): void {
    p.on('dialog', (d) => {
      ran.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
  }
  async function shot(p: Page, name: string): Promise<void> {
    await p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  }
  async function signIn(p: Page, key: string, path = '/console/sources'): Promise<void> {
    await p.goto(base + path);
    await p.fill('#key', key);
    await Promise.all([p.waitForLoadState('load'), p.click('button[type=submit]')]);
  }
  /** No payload ran in the page (JavaScript on): no flag, no title change, no dialog, no element made from a payload. */
  async function pwned(p: Page): Promise<void> {
    const state = await p.evaluate(() => {
      const g = globalThis as unknown as InPage;
      return { title: g.document.title, flag: g.__pwned };
    });
    assert.equal(state.flag, undefined, 'no payload script ran');
    assert.doesNotMatch(state.title, /pwned/);
    assert.equal(await p.locator('script').count(), 0, 'no script element');
    assert.equal(await p.locator('main img, main svg').count(), 0, 'no element from a payload');
    assert.deepEqual(ran, []);
  }

  it('sign-in, sources, sinks, search, an object with a <script> description and one with attribute-breaking text, the why of a rejected value: shown as text, no script runs', async () => {
    const c = await context(true);
    const p = await c.newPage();
    watch(p);
    const blocked: string[] = [];
    p.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) blocked.push(m.text());
    });

    const res = await p.goto(`${base}/console/sources`);
    assert.equal(res?.status(), 401);
    assert.equal(await p.locator('#key').count(), 1, 'the sign-in form');
    assert.equal(await p.locator('text=feed_x').count(), 0, 'nothing before sign-in');
    await shot(p, '01-sign-in');

    await p.fill('#key', KEYS.ops);
    await Promise.all([p.waitForURL(`${base}/console/sources`), p.click('button[type=submit]')]);
    assert.equal(await p.locator('#source-feed_x td').first().textContent(), 'feed_x');
    const cookies = await c.cookies();
    const session = cookies.find((x) => x.name === 'stixgate_console');
    assert.ok(
      session?.httpOnly && session.sameSite === 'Strict' && session.path === '/console',
      JSON.stringify(session),
    );
    assert.equal(
      await p.evaluate(() => (globalThis as unknown as InPage).document.cookie),
      '',
      'the session cookie is out of reach of scripts',
    );
    await shot(p, '02-sources');

    // an action: a CSRF-checked form posted by the browser
    await Promise.all([p.waitForURL(/done=pause/), p.click('#source-feed_x button:has-text("Pause")')]);
    assert.equal(await p.locator('.notice').textContent(), 'feed_x: paused');

    await p.click('nav a:has-text("Sinks")');
    await p.waitForURL(`${base}/console/sinks`);
    assert.equal(await p.locator('#sink-splunk_main td').first().textContent(), 'splunk_main');
    await shot(p, '03-sinks');

    await p.click('nav a:has-text("Search")');
    await p.fill('input[name=value]', 'evil.example');
    await Promise.all([p.waitForURL(/value=evil\.example/), p.click('form.search button')]);
    const rows = p.locator('#results tbody tr');
    assert.equal(await rows.count(), 1);
    assert.equal(await rows.locator('td.value a').textContent(), 'evil.example');
    await shot(p, '04-search');

    await Promise.all([p.waitForURL(`${base}/console/objects/${IDS.attr}`), rows.locator('td.value a').click()]);
    assert.equal(await p.locator('#object-description').textContent(), ATTR_PAYLOAD, 'the attribute payload as text');
    assert.ok(
      must(await p.locator('#object-json').textContent(), "(await p.locator('#object-json').textContent())").includes(
        NAME_PAYLOAD,
      ),
      'the name payload as text',
    );
    assert.ok(
      must(await p.locator('main').textContent(), "(await p.locator('main').textContent())").includes(LABEL_PAYLOAD),
      'the label payload as text',
    );
    await pwned(p);
    await shot(p, '05-object-attribute-payload');

    await p.goto(`${base}/console/objects/${IDS.script}`);
    assert.equal(await p.locator('#object-description').textContent(), SCRIPT_PAYLOAD, 'the script payload as text');
    await pwned(p);
    await shot(p, '06-object-script-payload');
    // its score history, newest first: the AMBER feed's delivery, then feed_x's higher confidence
    assert.deepEqual(await p.locator('#score-history tbody tr td.num').allTextContents(), ['80', '95', '70', '80']);
    assert.deepEqual(await p.locator('#score-history tbody tr td:nth-child(4)').allTextContents(), [
      'delivered by feed_amber',
      'delivered by feed_x',
    ]);
    await p.locator('#score-history').scrollIntoViewIfNeeded();
    await shot(p, '06b-object-score-history');

    // the why of a value: the ledger row of the rejected value, with the vendor's message as text
    await p.click('nav a:has-text("Why")');
    await p.fill('input[name=value]', 'evil.example');
    await Promise.all([p.waitForURL(/why\?value=evil\.example/), p.click('form.search button')]);
    const delivery = p.locator('tr.delivery');
    assert.equal(await delivery.count(), 1);
    assert.equal(await delivery.locator('td').nth(2).textContent(), 'rejected');
    assert.equal(await delivery.locator('td .err').textContent(), VENDOR_PAYLOAD);
    assert.equal(await p.locator('main iframe').count(), 0);
    await pwned(p);
    await shot(p, '07-why-rejected');

    // Plan, then Reconcile, after the why of the rejected value (a reconcile writes the value and
    // the ledger then records it present)
    await p.click('nav a:has-text("Sinks")');
    await p.waitForURL(`${base}/console/sinks`);
    // the product holds nothing of the two values the sink's view sends
    await Promise.all([p.waitForURL(`${base}/console/sinks/splunk_main/plan`), p.click('#plan-splunk_main')]);
    assert.equal(await p.locator('#plan-counts tr:has-text("missing") td').textContent(), '2');
    assert.equal(splunk.collection('search', 'stixgate_indicators')?.docs.size ?? 0, 0, 'a plan changes nothing');
    await shot(p, '03b-sink-plan');
    await Promise.all([p.waitForURL(`${base}/console/sinks/splunk_main/reconcile`), p.click('#reconcile-splunk_main')]);
    assert.match(must(await p.locator('#reconcile-done').textContent(), '#reconcile-done'), /Reconciled splunk_main/);
    assert.equal(await p.locator('#reconcile-outcome tr:has-text("written") td').textContent(), '2');
    assert.equal(splunk.collection('search', 'stixgate_indicators')?.docs.size, 2, 'both values written');
    await shot(p, '03c-sink-reconciled');

    // the whole search list: every name of the store, hostile ones included, as text
    await p.goto(`${base}/console/search`);
    assert.equal(await p.locator('#results tbody tr').count(), 3);
    await pwned(p);
    assert.deepEqual(blocked, [], 'nothing even tried to run against the CSP');
    await c.close();
  });

  it("a key without the page's scope sees nothing; a key with neither console scope cannot sign in", async () => {
    const c = await context(true);
    const p = await c.newPage();
    await signIn(p, KEYS.searcher, '/console/sources');
    assert.equal(p.url(), `${base}/console/sources`);
    assert.match(
      must(await p.locator('.error-box').textContent(), "(await p.locator('.error-box').textContent())"),
      /lacks the "admin" scope/,
    );
    assert.equal(await p.locator('text=feed_x').count(), 0);
    // no Plan or Reconcile button for this key, and the POST itself is refused
    await p.goto(`${base}/console/sinks`);
    assert.equal(await p.locator('button:has-text("Reconcile"), button:has-text("Plan")').count(), 0);
    for (const action of ['plan', 'reconcile'])
      assert.equal(
        (await p.request.post(`${base}/console/sinks/splunk_main/${action}`, { form: { csrf: 'x' } })).status(),
        403,
        action,
      );
    assert.equal(
      await p
        .locator('nav a')
        .allTextContents()
        .then((t) => t.join(',')),
      'Search,Why',
    );
    await shot(p, '08-forbidden-sources');
    // a CLEAR key: the GREEN and AMBER values are not there
    await p.goto(`${base}/console/search`);
    assert.deepEqual(await p.locator('#results td.value a').allTextContents(), ['198.51.100.23']);
    // its score history holds only the change behind feed_x, nothing of the AMBER feed
    await p.goto(`${base}/console/objects/${IDS.script}`);
    assert.deepEqual(await p.locator('#score-history tbody tr td:nth-child(4)').allTextContents(), [
      'delivered by feed_x',
    ]);
    assert.equal(await p.locator('text=feed_amber').count(), 0);
    await shot(p, '08b-clear-score-history');
    const hidden = await p.goto(`${base}/console/objects/${IDS.amber}`);
    assert.equal(hidden?.status(), 404);
    assert.equal(await p.locator('text=AMBER-SECRET-TEXT').count(), 0);
    await c.close();

    const c2 = await context(true);
    const p2 = await c2.newPage();
    await signIn(p2, KEYS.metricsOnly, '/console/search');
    assert.match(
      must(await p2.locator('.error-box').textContent(), "(await p2.locator('.error-box').textContent())"),
      /none of the admin, search and lookup scopes/,
    );
    assert.equal(
      (await c2.cookies()).some((x) => x.name === 'stixgate_console'),
      false,
      'no session',
    );
    await shot(p2, '09-sign-in-refused');
    await c2.close();
  });

  it('with JavaScript off every read-only view works: sign-in, sources, sinks, search, object, why', async () => {
    const c = await context(false);
    const p = await c.newPage();
    await signIn(p, KEYS.ops, '/console/search?value=198.51.100.23');
    assert.equal(await p.locator('#results tbody tr').count(), 1);
    await shot(p, '10-nojs-search');
    await Promise.all([p.waitForURL(`${base}/console/objects/${IDS.script}`), p.click('#results td.value a')]);
    assert.equal(await p.locator('#object-description').textContent(), SCRIPT_PAYLOAD);
    assert.equal(await p.locator('#provenance tbody tr').count(), 2, 'feed_x and the AMBER feed');
    assert.equal(await p.locator('#score-history tbody tr').count(), 2);
    await shot(p, '11-nojs-object');
    for (const [path, sel, name] of [
      ['/console/sources', '#source-feed_x', '12-nojs-sources'],
      ['/console/sinks', '#sink-splunk_main', '13-nojs-sinks'],
      ['/console/why?value=198.51.100.23', 'tr.delivery', '14-nojs-why'],
    ] as const) {
      const r = await p.goto(base + path);
      assert.equal(r?.status(), 200, path);
      assert.equal(await p.locator(sel).count(), 1, path);
      await shot(p, name);
    }
    // sign-out is a form too
    await Promise.all([p.waitForURL(`${base}/console/login`), p.click('header button:has-text("Sign out")')]);
    const again = await p.goto(`${base}/console/sources`);
    assert.equal(again?.status(), 401);
    await c.close();
  });
});
