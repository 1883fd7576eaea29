import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { checkUrl, isDeniedAddress, redactUrl } from '../../src/http/ssrf.js';
import { createHttpClient } from '../../src/http/client.js';
import { StixgateError } from '../../src/core/errors.js';
import { canary, policy } from '../helpers/ssrf-kit.js';

const strict = { allowPrivate: false, allowInsecure: false };
const insecureOnly = { allowPrivate: false, allowInsecure: true };

test('isDeniedAddress: private, loopback, link-local, reserved and embedded v4', () => {
  const denied = [
    '0.0.0.0',
    '0.1.2.3',
    '10.0.0.1',
    '10.255.255.255',
    '100.64.0.1',
    '100.127.255.254',
    '127.0.0.1',
    '127.255.0.9',
    '169.254.169.254',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '224.0.0.1',
    '239.255.255.250',
    '240.0.0.1',
    '255.255.255.255',
    '::',
    '::1',
    '[::1]',
    'fc00::1',
    'fd12:3456::1',
    'fe80::1',
    'febf::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    '::ffff:169.254.169.254',
    '64:ff9b::7f00:1',
    '64:ff9b::a9fe:a9fe',
    '2002:7f00:1::',
    'fe80::1%eth0',
    'not-an-ip',
    '0x7f.1',
    '2130706433',
    '127.1',
    '',
  ];
  for (const ip of denied) assert.equal(isDeniedAddress(ip), true, ip);
  const allowed = [
    '8.8.8.8',
    '1.1.1.1',
    '100.128.0.1',
    '172.32.0.1',
    '192.169.0.1',
    '11.0.0.1',
    '2001:4860:4860::8888',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::',
    '[2606:4700::1111]',
  ];
  for (const ip of allowed) assert.equal(isDeniedAddress(ip), false, ip);
});

// Each entry: URL, expected refusal under the strict policy (true) or not (false).
const CORPUS: [string, boolean][] = [
  ['https://127.0.0.1/', true],
  ['https://127.0.0.2:8443/x', true],
  ['https://127.255.255.254/', true],
  ['https://0.0.0.0/', true],
  ['https://0/', true],
  ['https://10.0.0.1/', true],
  ['https://10.10.10.10/feed.csv', true],
  ['https://172.16.0.1/', true],
  ['https://172.31.255.255/', true],
  ['https://192.168.0.1/', true],
  ['https://192.168.100.200/', true],
  ['https://169.254.169.254/latest/meta-data/', true],
  ['https://100.64.0.1/', true],
  ['https://224.0.0.1/', true],
  ['https://[::1]/', true],
  ['https://[0:0:0:0:0:0:0:1]/', true],
  ['https://[::]/', true],
  ['https://[fc00::1]/', true],
  ['https://[fd00:ec2::254]/', true],
  ['https://[fe80::1]/', true],
  ['https://[::ffff:127.0.0.1]/', true],
  ['https://[::ffff:7f00:1]/', true],
  ['https://[::ffff:169.254.169.254]/', true],
  ['https://[64:ff9b::127.0.0.1]/', true],
  ['https://0x7f.1/', true],
  ['https://0x7f000001/', true],
  ['https://2130706433/', true],
  ['https://017700000001/', true],
  ['https://0177.0.0.1/', true],
  ['https://127.1/', true],
  ['https://127.0.1/', true],
  ['https://0x7f.0x0.0x0.0x1/', true],
  ['https://3232235521/', true],
  ['https://①②⑦.0.0.1/', true],
  ['https://１２７．０．０．１/', true],
  ['https://localhost/', true],
  ['https://LOCALHOST:443/', true],
  ['https://ｌｏｃａｌｈｏｓｔ/', true],
  ['https://api.localhost/', true],
  ['https://user:pass@example.com/', true],
  ['https://example.com@127.0.0.1/', true],
  ['https://example.com:443@127.0.0.1/', true],
  ['https://a@b@127.0.0.1/', true],
  ['https://127.0.0.1#@example.com/', true],
  ['https://127.0.0.1?@example.com/', true],
  ['http://example.com/', true],
  ['HTTP://example.com/', true],
  ['file:///etc/passwd', true],
  ['data:text/plain,hello', true],
  ['ftp://example.com/list.txt', true],
  ['gopher://127.0.0.1:6379/_INFO', true],
  ['javascript:alert(1)', true],
  ['not a url', true],
  ['https://8.8.8.8/', false],
  ['https://example.com/feed.csv', false],
  ['https://example.com\\@127.0.0.1/', false], // WHATWG: backslash ends the host: goes to example.com
  ['https://bücher.example/feed', false],
  ['https://xn--bcher-kva.example/feed', false],
  ['https://[2001:4860:4860::8888]/', false],
  ['https://127.0.0.1.nip.io/', false], // a name: checked again at connect time against the resolved address
  ['https://feeds.example.org:8443/a?b=c', false],
];

test(`checkUrl: corpus of ${CORPUS.length} URLs`, () => {
  assert.ok(CORPUS.length >= 60);
  for (const [url, refused] of CORPUS) {
    const why = checkUrl(url, strict);
    assert.equal(why !== undefined, refused, `${url}: ${why}`);
  }
  assert.equal(
    checkUrl('https://0x7f.1/', strict),
    'IP address written in a non-canonical form (0x7f.1) is not allowed',
  );
  assert.equal(
    checkUrl('https://169.254.169.254/', strict),
    'destination 169.254.169.254 is a private, loopback, link-local or reserved address',
  );
  assert.equal(checkUrl('http://example.com/', strict), 'plain http:// is not allowed');
  assert.equal(checkUrl('file:///etc/passwd', strict), 'scheme file: is not allowed');
  // flags: allow_insecure permits http and userinfo; allow_private permits private ranges
  assert.equal(checkUrl('http://example.com/', insecureOnly), undefined);
  assert.equal(checkUrl('http://u:p@example.com/', insecureOnly), undefined);
  assert.match(checkUrl('http://127.0.0.1/', insecureOnly) ?? '', /private, loopback/);
  assert.equal(checkUrl('https://127.0.0.1/', { allowPrivate: true, allowInsecure: false }), undefined);
  assert.equal(checkUrl('http://127.0.0.1/', { allowPrivate: true, allowInsecure: true }), undefined);
  assert.equal(
    checkUrl('file:///etc/passwd', { allowPrivate: true, allowInsecure: true }),
    'scheme file: is not allowed',
  );
});

test('redactUrl drops userinfo, query values and fragments', () => {
  assert.equal(redactUrl('https://u:secret@h.example:8443/p/a?apikey=SECRET#frag'), 'https://h.example:8443/p/a?…');
  assert.equal(redactUrl('https://h.example/p'), 'https://h.example/p');
});

test('client with allowPrivate=false: 0 connections reach a loopback canary', async () => {
  const c = await canary();
  const names: Record<string, LookupAddress[]> = {
    'rebind.test': [{ address: '127.0.0.1', family: 4 }],
    'mixed.test': [
      { address: '93.184.216.34', family: 4 },
      { address: '127.0.0.1', family: 4 },
    ],
    'mapped.test': [{ address: '::ffff:127.0.0.1', family: 6 }],
    'meta.test': [{ address: '169.254.169.254', family: 4 }],
    'v6.test': [{ address: '::1', family: 6 }],
  };
  const lookups: string[] = [];
  const resolver = async (h: string) => {
    lookups.push(h);
    return names[h] ?? [{ address: '127.0.0.1', family: 4 }];
  };
  const client = createHttpClient(policy(), { component: 'ssrf-test', resolver });
  const p = c.port;
  const urls = [
    ...CORPUS.filter(([, refused]) => refused).map(([u]) =>
      u.replace(/^https:\/\/(\[[^\]]+\]|[^/:?#]+)(:\d+)?/i, (_m, h) => `http://${h}:${p}`),
    ),
    `http://127.0.0.1:${p}/`,
    `http://0x7f.1:${p}/`,
    `http://2130706433:${p}/`,
    `http://[::ffff:127.0.0.1]:${p}/`,
    `http://localhost:${p}/`,
    `http://rebind.test:${p}/`,
    `http://mixed.test:${p}/`,
    `http://mapped.test:${p}/`,
    `http://meta.test:${p}/`,
    `http://v6.test:${p}/`,
    `http://127.0.0.1.nip.io:${p}/`,
  ];
  let refused = 0;
  for (const url of urls) {
    try {
      await client.request({ url });
      assert.fail(`not refused: ${url}`);
    } catch (e) {
      assert.ok(e instanceof StixgateError, `${url}: ${e}`);
      if (e.code === 'STIXGATE_ERR_HTTP_SSRF') refused++;
      else assert.fail(`${url}: ${e.code} ${e.message}`);
      assert.equal(e.reason, 'ssrf');
      assert.equal(e.retryable, false);
    }
  }
  assert.equal(refused, urls.length);
  assert.equal(c.count(), 0);
  // the host names reached the connect-time check (DNS rebinding guard)
  for (const h of ['rebind.test', 'mixed.test', 'mapped.test', 'meta.test', 'v6.test', '127.0.0.1.nip.io'])
    assert.ok(lookups.includes(h), h);
  await client.close();

  // control: the same canary is reachable when private destinations are allowed
  const open = createHttpClient(policy({ allowPrivate: true }), { component: 'ssrf-test' });
  const res = await open.request({ url: `http://127.0.0.1:${p}/` });
  assert.equal(await res.text(), 'canary');
  assert.equal(c.count(), 1);
  await open.close();
  c.server.close();
});

test('error messages name the component and hide userinfo and query', async () => {
  const client = createHttpClient(policy({ allowInsecure: false }), { component: 'feed_x' });
  await assert.rejects(client.request({ url: 'https://127.0.0.1/x?apikey=SECRET' }), (e: StixgateError) => {
    assert.equal(e.code, 'STIXGATE_ERR_HTTP_SSRF');
    assert.equal(
      e.message,
      'feed_x: GET https://127.0.0.1/x?…: destination 127.0.0.1 is a private, loopback, link-local or reserved address (ssrf)',
    );
    return true;
  });
  await assert.rejects(client.request({ url: 'https://bob:hunter2@example.com/' }), (e: StixgateError) => {
    assert.equal(e.code, 'STIXGATE_ERR_HTTP_SSRF');
    assert.ok(!e.message.includes('hunter2') && !e.message.includes('bob'), e.message);
    return true;
  });
  await client.close();
});
