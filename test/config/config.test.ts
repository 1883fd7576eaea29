import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, loadConfig, redactConfig, ConfigError } from '../../src/config/load.js';
import { registry } from '../../integrations/index.js';
import { must } from '../helpers/must.js';

const file = 'test.yaml';
const env = { FEED_TOKEN: 's3cr3t-canary-7f1c', EMPTY: '' };

function issues(text: string, e: Record<string, string | undefined> = env): { path: string; message: string }[] {
  try {
    parseConfig(text, { file, registry, env: e });
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
    assert.equal(err.code, 'STIXGATE_ERR_CONFIG_INVALID');
    return err.issues;
  }
  assert.fail('configuration was accepted');
}

const feed = (extra = '') =>
  `sources:\n  feed1:\n    type: text_list\n    url: https://feeds.example.org/list.txt\n${extra}`;

test('a minimal configuration gets every default', () => {
  const { config } = parseConfig('{}', { file, registry, env });
  assert.equal(config.data_dir, './data');
  assert.equal(config.store.type, 'embedded');
  assert.equal(config.server.port, 8080);
  assert.equal(config.server.listen_host, '127.0.0.1');
  assert.deepEqual(config.sources, {});
});

test('source entries get the common defaults', () => {
  const { config } = parseConfig(feed(), { file, registry, env });
  const src = config.sources.feed1 as Record<string, any>;
  assert.equal(src.enabled, true);
  assert.equal(src.verify_tls, true);
  assert.equal(src.allow_private, false);
  assert.equal(src.tlp, undefined, 'no source TLP unless configured: unmarked objects take default_tlp');
  assert.equal(config.default_tlp, 'amber');
  assert.equal(src.max_bad_ratio, 0.2);
  assert.deepEqual(src.retry, { max_attempts: 4, base_delay_secs: 1, max_delay_secs: 60 });
});

test('C1: duplicate keys are rejected with line and column', () => {
  const found = issues('data_dir: a\ndata_dir: b\n');
  assert.equal(found.length, 1);
  assert.match(must(found[0], 'found[0]').path, /line 2, column 1/);
  assert.match(must(found[0], 'found[0]').message, /unique/);
});

test('C2: unknown tags are refused, never used as literal secrets', () => {
  for (const tag of ['!env FEED_TOKEN', '!!js/function "x"', '!!binary aGVsbG8=']) {
    const found = issues(`data_dir: ${tag}\n`);
    assert.ok(
      found.some((i) => /tag/i.test(i.message)),
      `${tag}: ${JSON.stringify(found)}`,
    );
  }
});

test('C3: YAML 1.1 booleans and unquoted numbers get a hint', () => {
  const found = issues(feed('    verify_tls: no\n    enabled: on\n'));
  const byPath = Object.fromEntries(found.map((i) => [i.path.replace(/ \(line.*/, ''), i.message]));
  assert.match(
    must(byPath['sources.feed1.verify_tls'], "byPath['sources.feed1.verify_tls']"),
    /true or false.*"no" is a string/,
  );
  assert.match(must(byPath['sources.feed1.enabled'], "byPath['sources.feed1.enabled']"), /"on" is a string/);
  const v = issues('data_dir: 1.10\n');
  assert.match(must(v[0], 'v[0]').message, /must be a string.*quote it/);
});

test('C4: alias bombs and deep nesting are rejected', () => {
  const bomb = [
    'a: &a [x,x,x,x,x,x,x,x,x]',
    'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
    'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
    'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
    'e: [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
  ].join('\n');
  assert.ok(issues(bomb).length >= 1);
  const deep = `x: ${'['.repeat(40)}${']'.repeat(40)}\n`;
  assert.deepEqual(issues(deep), [{ path: 'line 1, column 35', message: 'nesting deeper than 32 levels' }]);
});

test('C4 (issue 18): YAML nested 5,000 deep, in flow or block style, gets the depth error with its line, not a stack overflow', () => {
  const flow = `sources: {}\nx: ${'['.repeat(5000)}${']'.repeat(5000)}\n`;
  assert.deepEqual(issues(flow), [{ path: 'line 2, column 35', message: 'nesting deeper than 32 levels' }]);
  const block = `# deep\n${Array.from({ length: 5000 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n')} 1\n`;
  assert.deepEqual(issues(block), [{ path: 'line 34, column 33', message: 'nesting deeper than 32 levels' }]);
  const seq = `${'- '.repeat(5000)}x\n`;
  assert.deepEqual(issues(seq), [{ path: 'line 1, column 65', message: 'nesting deeper than 32 levels' }]);
});

test('C5: an unset secret reference names the key path and prints no values', () => {
  const found = issues(feed('    labels: ["${MISSING_VAR}"]\n'), env);
  assert.equal(must(found[0], 'found[0]').path.replace(/ \(line.*/, ''), 'sources.feed1.labels[0]');
  assert.match(must(found[0], 'found[0]').message, /MISSING_VAR is not set/);
  const empty = issues(feed('    labels: ["${EMPTY}"]\n'));
  assert.match(must(empty[0], 'empty[0]').message, /EMPTY is not set/);
});

test('secret references resolve from the environment and files and are redacted', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-cfg-'));
  writeFileSync(join(dir, 'token.txt'), 'file-secret-canary\n');
  const text = `sources:\n  feed1:\n    type: text_list\n    url: "https://feeds.example.org/list.txt?k=\${FEED_TOKEN}"\n    labels: ["\${file:token.txt}"]\n    interval_secs: 3600\n`;
  writeFileSync(join(dir, 'c.yaml'), text);
  chmodSync(join(dir, 'c.yaml'), 0o600);
  const loaded = loadConfig(join(dir, 'c.yaml'), registry, env);
  const src = loaded.config.sources.feed1 as Record<string, any>;
  assert.equal(src.url, 'https://feeds.example.org/list.txt?k=s3cr3t-canary-7f1c');
  assert.deepEqual(src.labels, ['file-secret-canary']);
  const shown = JSON.stringify(redactConfig(loaded));
  assert.ok(!shown.includes('s3cr3t-canary-7f1c') && !shown.includes('file-secret-canary'), shown);
  assert.deepEqual(loaded.warnings, []);
});

test('C6: a world-readable file holding secrets is warned about', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-cfg-'));
  writeFileSync(join(dir, 'c.yaml'), feed('    labels: ["${FEED_TOKEN}"]\n    interval_secs: 3600\n'));
  chmodSync(join(dir, 'c.yaml'), 0o644);
  const loaded = loadConfig(join(dir, 'c.yaml'), registry, env);
  assert.equal(loaded.warnings.length, 1);
  assert.match(must(loaded.warnings[0], 'loaded.warnings[0]'), /readable by other users \(mode 644\)/);
});

test('C7: invalid cron and too-frequent schedules are rejected', () => {
  assert.match(
    must(issues(feed('    schedule: "not a cron"\n'))[0], 'issues(feed(\' schedule: "not a cron"\\n\'))[0]').path,
    /sources\.feed1\.schedule/,
  );
  const every = issues(feed('    schedule: "* * * * * *"\n'));
  assert.match(must(every[0], 'every[0]').message, /often|interval|minimum/i);
  assert.match(
    must(issues(feed('    interval_secs: 5\n'))[0], "issues(feed(' interval_secs: 5\\n'))[0]").message,
    />= 60/,
  );
});

test('C8: insecure and private feed URLs need an explicit flag', () => {
  for (const url of [
    'http://feeds.example.org/x',
    'https://127.0.0.1/x',
    'https://10.1.2.3/x',
    'https://user:pass@feeds.example.org/x',
    'https://169.254.169.254/latest',
  ]) {
    const found = issues(`sources:\n  f:\n    type: text_list\n    url: "${url}"\n`);
    assert.equal(must(found[0], 'found[0]').path.replace(/ \(line.*/, ''), 'sources.f.url', url);
  }
  parseConfig(
    'sources:\n  f:\n    type: text_list\n    url: "http://127.0.0.1:9/x"\n    allow_private: true\n    allow_insecure: true\n',
    { file, registry, env },
  );
});

test('C9: unknown keys are rejected with a did-you-mean hint', () => {
  const found = issues(feed('    verfiy_tls: true\n'));
  assert.equal(found.length, 1);
  assert.equal(must(found[0], 'found[0]').path.replace(/ \(line.*/, ''), 'sources.feed1.verfiy_tls');
  assert.match(must(found[0], 'found[0]').message, /did you mean "verify_tls"/);
  assert.match(must(issues('sever: {}\n')[0], "issues('sever: {}\\n')[0]").message, /did you mean "server"/);
  assert.match(
    must(issues('sources:\n  f:\n    type: text_lst\n')[0], "issues('sources:\\n f:\\n type: text_lst\\n')[0]").message,
    /did you mean "text_list"/,
  );
});

test('C11: nonsense limits are rejected', () => {
  const found = issues(feed('    timeout_secs: 0\n    max_feed_bytes: -1\n    retry: { max_attempts: 1000000000 }\n'));
  const paths = found.map((i) => i.path.replace(/ \(line.*/, '')).sort();
  assert.deepEqual(paths, [
    'sources.feed1.max_feed_bytes',
    'sources.feed1.retry.max_attempts',
    'sources.feed1.timeout_secs',
  ]);
});

test('C12: an invalid time zone is rejected', () => {
  const found = issues(feed('    schedule: "0 * * * *"\n    timezone: Mars/Olympus\n'));
  assert.match(must(found[0], 'found[0]').message, /time ?zone/i);
});

test('X12: template-looking strings are never evaluated', () => {
  const { config } = parseConfig(feed('    labels: ["${{constructor}}", "{{constructor}}", "$${FEED_TOKEN"]\n'), {
    file,
    registry,
    env,
  });
  assert.deepEqual((config.sources.feed1 as any).labels, ['${{constructor}}', '{{constructor}}', '$${FEED_TOKEN']);
});

test('every problem is reported at once', () => {
  const found = issues(`log_level: loud\nshutdown_timeout_secs: -5\nbogus: 1\n${feed('    tlp: purple\n')}`);
  assert.equal(found.length, 4);
});

// the shipped configurations, the examples and every documented configuration: test/config/doc-examples.test.ts

test('a configuration file that cannot be read is a configuration error naming the file and the system code', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'stixgate-missing-')), 'absent.yaml');
  assert.throws(
    () => loadConfig(file, registry),
    (e: unknown) =>
      e instanceof Error &&
      Reflect.get(e, 'code') === 'STIXGATE_ERR_CONFIG_INVALID' &&
      e.message.startsWith(`cannot read configuration ${file}: ENOENT`) &&
      Reflect.get(Reflect.get(e, 'location') ?? {}, 'file') === file,
  );
});
