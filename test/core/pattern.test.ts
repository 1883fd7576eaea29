import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  escapePatternString,
  patternFor,
  parsePattern,
  canonicalPattern,
  extractObservables,
  patternText,
  MAX_PATTERN_DEPTH,
} from '../../src/core/pattern.js';
import { StixgateError } from '../../src/core/errors.js';
import type { Observable } from '../../src/core/stix.js';
import { corpusPath } from '../helpers/corpus.js';

test('escapePatternString', () => {
  assert.equal(escapePatternString('plain'), 'plain');
  assert.equal(escapePatternString("it's"), "it\\'s");
  assert.equal(escapePatternString('C:\\x\\'), 'C:\\\\x\\\\');
  assert.equal(escapePatternString("\\'"), "\\\\\\'");
});

test('patternFor builds canonical patterns that round-trip', () => {
  const cases: Array<[Observable, string]> = [
    [{ type: 'ipv4-addr', value: '1.2.3.0/24', cidr: true }, "[ipv4-addr:value = '1.2.3.0/24']"],
    [{ type: 'ipv6-addr', value: '2001:db8::1' }, "[ipv6-addr:value = '2001:db8::1']"],
    [{ type: 'domain-name', value: 'example.com' }, "[domain-name:value = 'example.com']"],
    [{ type: 'url', value: "http://a.com/it's" }, "[url:value = 'http://a.com/it\\'s']"],
    [{ type: 'email-addr', value: 'a@b.com' }, "[email-addr:value = 'a@b.com']"],
    [
      { type: 'file', value: 'd41d8cd98f00b204e9800998ecf8427e', hash: 'MD5' },
      "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
    ],
    [{ type: 'file', value: 'ab'.repeat(32), hash: 'SHA-256' }, `[file:hashes.'SHA-256' = '${'ab'.repeat(32)}']`],
    [{ type: 'file', value: 'ab'.repeat(64), hash: 'SHA-512' }, `[file:hashes.'SHA-512' = '${'ab'.repeat(64)}']`],
    [
      { type: 'x509-certificate', value: 'ab'.repeat(20), hash: 'SHA-1' },
      `[x509-certificate:hashes.'SHA-1' = '${'ab'.repeat(20)}']`,
    ],
  ];
  for (const [o, want] of cases) {
    const p = patternFor(o);
    assert.equal(p, want);
    assert.equal(canonicalPattern(p), p, 'patternFor output is canonical');
    assert.deepEqual(extractObservables(p), [o]);
  }
  assert.equal(patternFor({ type: 'domain-name', value: "a\\b'c" }), "[domain-name:value = 'a\\\\b\\'c']");
  assert.throws(() => patternFor({ type: 'file', value: 'x' }), TypeError);
});

test('parsePattern builds the AST', () => {
  assert.deepEqual(
    parsePattern(
      "[file:hashes.'SHA-256' = 'ab' AND file:size >= 10] WITHIN 5 SECONDS OR [x:y[*].z NOT IN ('a', 1, true)]",
    ),
    {
      kind: 'observation-op',
      op: 'OR',
      qualifiers: [],
      operands: [
        {
          kind: 'observation',
          qualifiers: [{ kind: 'within', seconds: '5' }],
          comparison: {
            kind: 'comparison-op',
            op: 'AND',
            operands: [
              {
                kind: 'comparison',
                path: {
                  objectType: 'file',
                  steps: [
                    { kind: 'key', name: 'hashes' },
                    { kind: 'key', name: 'SHA-256' },
                  ],
                },
                negated: false,
                operator: '=',
                value: { kind: 'string', value: 'ab' },
              },
              {
                kind: 'comparison',
                path: { objectType: 'file', steps: [{ kind: 'key', name: 'size' }] },
                negated: false,
                operator: '>=',
                value: { kind: 'int', text: '10' },
              },
            ],
          },
        },
        {
          kind: 'observation',
          qualifiers: [],
          comparison: {
            kind: 'comparison',
            path: {
              objectType: 'x',
              steps: [
                { kind: 'key', name: 'y' },
                { kind: 'index', index: '*' },
                { kind: 'key', name: 'z' },
              ],
            },
            negated: true,
            operator: 'IN',
            value: [
              { kind: 'string', value: 'a' },
              { kind: 'int', text: '1' },
              { kind: 'bool', value: true },
            ],
          },
        },
      ],
    },
  );
  assert.deepEqual(
    parsePattern(
      "[a:b = t'2016-01-01T00:00:00Z'] START t'2016-01-01T00:00:00Z' STOP t'2017-01-01T00:00:00.5Z' REPEATS 2 TIMES",
    ),
    {
      kind: 'observation',
      qualifiers: [
        { kind: 'start-stop', start: '2016-01-01T00:00:00Z', stop: '2017-01-01T00:00:00.5Z' },
        { kind: 'repeats', times: '2' },
      ],
      comparison: {
        kind: 'comparison',
        path: { objectType: 'a', steps: [{ kind: 'key', name: 'b' }] },
        negated: false,
        operator: '=',
        value: { kind: 'timestamp', value: '2016-01-01T00:00:00Z' },
      },
    },
  );
});

test('canonicalPattern maps formatting variants to one string', () => {
  const groups: string[][] = [
    [
      "[ipv4-addr:value = '1.2.3.4']",
      "[ ipv4-addr:value='1.2.3.4' ]",
      "\n[ipv4-addr:value  ==  '1.2.3.4']\t",
      "([ipv4-addr:value = '1.2.3.4'])",
      "[(ipv4-addr:value = '1.2.3.4')]",
      "[ipv4-addr:'value' = '1.2.3.4'] /* c */",
    ],
    ["[file:hashes.MD5 = 'x']", "[file:hashes.'MD5' = 'x']", "[file : hashes . 'MD5' = 'x']"],
    ['[a:b != 1]', '[a:b <> 1]', '[a:b <> +1]'],
    ["[a:b = h'ab']", "[a:b = h'AB']"],
    [
      '[a:b = 1] AND [c:d = 2] AND [e:f = 3]',
      '([a:b = 1] AND [c:d = 2]) AND [e:f = 3]',
      '[a:b = 1] AND ([c:d = 2] AND [e:f = 3])',
    ],
    ['[a:b = 1] WITHIN 5 SECONDS REPEATS 2 TIMES', '(([a:b = 1]) WITHIN 5 SECONDS) REPEATS 2 TIMES'],
  ];
  for (const g of groups) {
    const c = new Set(g.map(canonicalPattern));
    assert.equal(c.size, 1, g.join(' | '));
    assert.equal([...c][0], g[0]);
  }
  // parentheses that change the grouping are kept; redundant ones are dropped
  assert.equal(canonicalPattern('([a:b = 1] OR [c:d = 2]) AND [e:f = 3]'), '([a:b = 1] OR [c:d = 2]) AND [e:f = 3]');
  assert.equal(canonicalPattern('([a:b = 1] AND [c:d = 2]) OR [e:f = 3]'), '[a:b = 1] AND [c:d = 2] OR [e:f = 3]');
  assert.equal(
    canonicalPattern('[a:b = 1] FOLLOWEDBY ([c:d = 2] OR [e:f = 3])'),
    '[a:b = 1] FOLLOWEDBY [c:d = 2] OR [e:f = 3]',
  );
  assert.equal(
    canonicalPattern('([a:b = 1] FOLLOWEDBY [c:d = 2]) OR [e:f = 3]'),
    '([a:b = 1] FOLLOWEDBY [c:d = 2]) OR [e:f = 3]',
  );
  assert.equal(
    canonicalPattern('([a:b = 1] OR [c:d = 2]) WITHIN 5 SECONDS'),
    '([a:b = 1] OR [c:d = 2]) WITHIN 5 SECONDS',
  );
  assert.equal(canonicalPattern('[(a:b = 1 OR a:c = 2) AND a:d = 3]'), '[(a:b = 1 OR a:c = 2) AND a:d = 3]');
  assert.equal(canonicalPattern('[a:b = 1 OR (a:c = 2 AND a:d = 3)]'), '[a:b = 1 OR a:c = 2 AND a:d = 3]');
  assert.equal(canonicalPattern("[a:'b-c'.'IN'.'in'.d = 'x\\'y\\\\z']"), "[a:'b-c'.'IN'.in.d = 'x\\'y\\\\z']");
  assert.equal(canonicalPattern('[a:in = 1]'), '[a:in = 1]'); // lower-case words are identifiers: keywords are case-sensitive
  assert.equal(
    canonicalPattern("[NOT EXISTS a:b[-1] AND a:c ISSUBSET '10.0.0.0/8' AND a:d MATCHES '^x$' AND a:e > -.5]"),
    "[NOT EXISTS a:b[-1] AND a:c ISSUBSET '10.0.0.0/8' AND a:d MATCHES '^x$' AND a:e > -.5]",
  );
  assert.equal(
    canonicalPattern("[a:b = b'AAA=' OR a:c IN () OR a:d LIKE 'x%' OR a:e ISSUPERSET 'y' OR a:f = false]"),
    "[a:b = b'AAA=' OR a:c IN () OR a:d LIKE 'x%' OR a:e ISSUPERSET 'y' OR a:f = false]",
  );
});

test('the canonicalPattern fast path agrees with parse + serialise', () => {
  const same = [
    "[url:value = 'http://a.com/']",
    "[url:value = '']",
    "[url:value = 'a\\'b\\\\c']",
    "[domain-name:value = 'a.com']",
    "[file:hashes.MD5 = 'x']",
    "[file:hashes.'SHA-256' = 'x']",
    "[x509-certificate:hashes.'SHA-512' = 'x']",
  ];
  for (const p of same) assert.equal(canonicalPattern(p), patternText(parsePattern(p)), p);
  const rewritten: Array<[string, string]> = [
    ["[url:value = 'x'] ", "[url:value = 'x']"],
    ["[url:value = 'x' ]", "[url:value = 'x']"],
    ["[file:hashes.'MD5' = 'x']", "[file:hashes.MD5 = 'x']"],
    ["[url:value = 'x' OR url:value = 'y']", "[url:value = 'x' OR url:value = 'y']"],
  ];
  for (const [p, want] of rewritten) assert.equal(canonicalPattern(p), want, p);
  for (const bad of [
    "[url:value = 'a'b']",
    "[url:value = 'a\\']",
    "[url:value = 'a\\n']",
    "[url:value = ']",
    "[url:value = '''",
  ]) {
    assert.throws(() => canonicalPattern(bad), { code: 'STIXGATE_ERR_PATTERN_INVALID' }, bad);
  }
});

/** Invalid patterns and the 1-based column (line 1) each error points at. */
const INVALID: Array<[string, number]> = [
  ['', 1],
  ['a:b = 1', 1],
  ['[]', 2],
  ["[a:b = 'x'", 11],
  ["[a:b = 'x]", 8],
  ['[a:b = 1]]', 10],
  ['[a:b = 1] OR', 13],
  ['[a:b = 1] [c:d = 2]', 11],
  ['[a:b = 1] and [c:d = 2]', 11],
  ['[a:b = TRUE]', 8],
  ['[a:b = 007]', 8],
  ['[a:b = 1.]', 9],
  ['[a:b = 1e5]', 9],
  ['[a:b = 1, 2]', 9],
  ['[a:b.c-d = 1]', 7],
  ['[file:extensions.windows-pebinary-ext.x = 1]', 25],
  ['[a:b.c. = 1]', 9],
  ['[1a:b = 1]', 2],
  ['[NOT a:b = 1]', 2],
  ['[a:b]', 5],
  ["[a:b = 'x\\n']", 10],
  ["[a:b = h'abc']", 8],
  ["[a:b = b'A===']", 8],
  ["[a:b = t'2016-13-01T00:00:00Z']", 8],
  ["[a:b = t'2016-01-01T00:00:00+00:00']", 8],
  ['[a:b > true]', 8],
  ['[a:b IN 1]', 9],
  ['[a:b IN (1 2)]', 12],
  ['[a:b LIKE 1]', 11],
  ['[a:b = 1] WITHIN 5 seconds', 20],
  ['[a:b = 1] WITHIN -1 SECONDS', 18],
  ['[a:b = 1] REPEATS 1.5 TIMES', 19],
  ["[a:b = 1] START '2016-01-01T00:00:00Z' STOP '2017-01-01T00:00:00Z'", 17],
  ['[a:b = 1] & [c:d = 2]', 11],
  ['[a:b = 1] /* open', 11],
  ['[a:b[01] = 1]', 6],
  ['[a:b[x] = 1]', 6],
];

test('invalid patterns throw STIXGATE_ERR_PATTERN_INVALID with the column', () => {
  for (const [p, column] of INVALID) {
    assert.throws(
      () => parsePattern(p),
      (e: unknown) => {
        assert.ok(e instanceof StixgateError, p);
        assert.equal(e.code, 'STIXGATE_ERR_PATTERN_INVALID', p);
        assert.equal(e.reason, 'pattern_invalid', p);
        assert.deepEqual(e.location, { line: 1, column }, `${p}: ${e.message}`);
        assert.match(e.message, new RegExp(`^invalid STIX pattern: .+ at column ${column} \\(line 1:${column}\\)$`), p);
        return true;
      },
    );
  }
  assert.throws(
    () => parsePattern('[a:b = 1]\nAND [c:d = ]'),
    (e: StixgateError) => {
      assert.deepEqual(e.location, { line: 2, column: 12 });
      return true;
    },
  );
  assert.throws(() => canonicalPattern('[a:b'), { code: 'STIXGATE_ERR_PATTERN_INVALID' });
  assert.throws(() => extractObservables('[a:b'), { code: 'STIXGATE_ERR_PATTERN_INVALID' });
});

test('nesting is limited to MAX_PATTERN_DEPTH and length to 64 KB', () => {
  const ok = `${'('.repeat(MAX_PATTERN_DEPTH - 1)}[${'('.repeat(0)}a:b = 1]${')'.repeat(MAX_PATTERN_DEPTH - 1)}`;
  assert.equal(canonicalPattern(ok), '[a:b = 1]');
  const deep = `${'('.repeat(MAX_PATTERN_DEPTH)}[a:b = 1]${')'.repeat(MAX_PATTERN_DEPTH)}`;
  assert.throws(
    () => parsePattern(deep),
    (e: StixgateError) => {
      assert.equal(e.code, 'STIXGATE_ERR_PATTERN_INVALID');
      assert.deepEqual(e.location, { line: 1, column: MAX_PATTERN_DEPTH + 1 });
      assert.match(e.message, /nesting deeper than 100/);
      return true;
    },
  );
  const deepCmp = `[${'('.repeat(20_000)}a:b = 1${')'.repeat(20_000)}]`;
  assert.throws(() => parsePattern(deepCmp), { code: 'STIXGATE_ERR_PATTERN_INVALID' });
  const long = `[a:b = '${'x'.repeat(64 * 1024)}']`;
  assert.throws(
    () => parsePattern(long),
    (e: StixgateError) => e.code === 'STIXGATE_ERR_PATTERN_INVALID' && e.reason === 'pattern_too_long',
  );
  // a long flat chain stays flat (no deep recursion when serialising)
  const chain = Array.from({ length: 3000 }, (_, i) => `[a:b = ${i}]`).join(' AND ');
  const ast = parsePattern(chain);
  assert.equal(ast.kind === 'observation-op' ? ast.operands.length : 0, 3000);
  assert.equal(canonicalPattern(chain), chain);
});

test('extractObservables takes positive equality comparisons on indexable paths', () => {
  const p =
    "[ipv4-addr:value = '1.2.3[.]4' OR ipv4-addr:value ISSUBSET '10.1.2.3/8' OR ipv6-addr:value = '2001:DB8::1'" +
    " OR domain-name:value IN ('A.com', 'b[.]com', 'bad..x', 5) OR url:value = 'HTTP://X.com'" +
    " OR file:hashes.'SHA-256' = 'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855' OR file:hashes.md5 = 'd41d8cd98f00b204e9800998ecf8427e'" +
    " OR artifact:hashes.SHA1 = 'da39a3ee5e6b4b0d3255bfef95601890afd80709' OR x509-certificate:hashes.'SHA-1' = 'DA39A3EE5E6B4B0D3255BFEF95601890AFD80709'" +
    " OR file:hashes.'SHA-256' = 'd41d8cd98f00b204e9800998ecf8427e' OR file:hashes.SSDEEP = 'x'" + // wrong length, unknown algorithm: skipped
    " OR url:value NOT = 'http://neg.com' OR url:value != 'http://ne.com' OR domain-name:value LIKE '%.evil.com' OR domain-name:value MATCHES 'x'" +
    " OR ipv4-addr:value = '1.2.3.4' OR file:name = 'x.exe' OR email-addr:display_name = 'a@b.com' OR domain-name:resolves_to_refs[*].value = '9.9.9.9']" +
    " FOLLOWEDBY [network-traffic:dst_ref.value = '5.6.7.8' AND network-traffic:src_ref.value = '::1' AND network-traffic:dst_port = 80" +
    " AND email-message:from_ref.value = 'Boss@Corp.com' AND email-message:sender_ref.value = 'x@y.org' AND email-addr:value = 'Z@Q.net']" +
    " AND [domain-name:value ISSUBSET 'a.com' AND ipv4-addr:value IN ('1.2.3.4', '7.7.7.7/32')]";
  assert.deepEqual(extractObservables(p), [
    { type: 'ipv4-addr', value: '1.2.3.4' },
    { type: 'ipv4-addr', value: '10.0.0.0/8', cidr: true },
    { type: 'ipv6-addr', value: '2001:db8::1' },
    { type: 'domain-name', value: 'a.com' },
    { type: 'domain-name', value: 'b.com' },
    { type: 'url', value: 'http://x.com/' },
    { type: 'file', value: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', hash: 'SHA-256' },
    { type: 'file', value: 'd41d8cd98f00b204e9800998ecf8427e', hash: 'MD5' },
    { type: 'file', value: 'da39a3ee5e6b4b0d3255bfef95601890afd80709', hash: 'SHA-1' },
    { type: 'x509-certificate', value: 'da39a3ee5e6b4b0d3255bfef95601890afd80709', hash: 'SHA-1' },
    { type: 'ipv4-addr', value: '5.6.7.8' },
    { type: 'ipv6-addr', value: '::1' },
    { type: 'email-addr', value: 'boss@corp.com' },
    { type: 'email-addr', value: 'x@y.org' },
    { type: 'email-addr', value: 'z@q.net' },
    { type: 'ipv4-addr', value: '7.7.7.7' },
  ]);
  assert.deepEqual(extractObservables("[file:name = 'x'] AND [mutex:name = 'y']"), []);
});

// ---------------------------------------------------------------------------------------------
// every pattern in the shared corpus

const CORPUS_DIRS = [
  'stix2-cti-documentation',
  'stix2-json-schemas/examples',
  'oasis-stix2-test-data',
  'mitre-attack',
  'stix-elevator-idioms/idioms-json-2.1',
  'stix-elevator-idioms/idioms-json-2.1-ignore',
];

/**
 * Corpus patterns that are not valid STIX 2.1 and must be rejected. The elevator's "ignore" idioms
 * hold one unconverted STIX 1 term; python stix2-patterns 2.1.2 also rejects it
 * ("no viable alternative at input 'unconverted_term:example:'", 0-based column 25).
 */
const CORPUS_INVALID: Array<[string, number]> = [['[unconverted_term:example:observable-', 26]];

function collectPatterns(dir: string, out: Map<string, string>): void {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) collectPatterns(p, out);
    else if (name.endsWith('.json')) {
      let doc: unknown;
      try {
        doc = JSON.parse(readFileSync(p, 'utf8'));
      } catch {
        continue; // not JSON (the corpus has a few deliberately broken files)
      }
      visit(doc, p, out);
    }
  }
}
function visit(v: unknown, file: string, out: Map<string, string>): void {
  if (Array.isArray(v)) {
    for (const x of v) visit(x, file, out);
  } else if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (
      o.type === 'indicator' &&
      typeof o.pattern === 'string' &&
      (o.pattern_type === undefined || o.pattern_type === 'stix')
    )
      out.set(o.pattern, file);
    for (const k of Object.keys(o)) visit(o[k], file, out);
  }
}

for (const dir of CORPUS_DIRS) {
  const c = corpusPath(dir);
  test(`every STIX pattern in corpus/${dir} parses and canonicalises idempotently`, { skip: c.skip }, () => {
    const patterns = new Map<string, string>();
    collectPatterns(c.path, patterns);
    let parsed = 0;
    let rejected = 0;
    for (const [p, file] of patterns) {
      const bad = CORPUS_INVALID.find(([prefix]) => p.startsWith(prefix));
      if (bad) {
        assert.throws(
          () => parsePattern(p),
          (e: StixgateError) => e.location?.column === bad[1],
          file,
        );
        rejected++;
        continue;
      }
      let canon: string;
      try {
        canon = canonicalPattern(p);
      } catch (e) {
        assert.fail(`${file}: ${p.slice(0, 120)}: ${(e as Error).message}`);
      }
      assert.equal(canonicalPattern(canon), canon, file);
      extractObservables(p);
      parsed++;
    }
    // the corpus is fixed: pin how many distinct patterns each folder holds
    const expected: Record<string, [number, number]> = {
      'stix2-cti-documentation': [5, 0],
      'stix2-json-schemas/examples': [42, 0],
      'oasis-stix2-test-data': [0, 0],
      'mitre-attack': [0, 0],
      'stix-elevator-idioms/idioms-json-2.1': [51, 1],
      'stix-elevator-idioms/idioms-json-2.1-ignore': [51, 1],
    };
    assert.deepEqual([parsed, rejected], expected[dir]);
  });
}
