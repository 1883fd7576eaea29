/**
 * The linear-time regex engine: PCRE-subset semantics checked against JavaScript's engine on
 * safe patterns, refusal of what needs backtracking, and bounded time on patterns that make a
 * backtracking engine run for ever.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CATASTROPHIC_REGEXES, CATASTROPHIC_VALUES } from '../helpers/adversarial.js';
import { compilePatterns, vetPattern, MAX_STATES } from '../../src/filter/regex-nfa.js';
import { PublishFilter } from '../../src/filter/policy.js';
import { normaliseObservable } from '../../src/core/observable.js';
import { must } from '../helpers/must.js';

const AGREE: [string, string[]][] = [
  [
    '/^(security|noc|soc|abuse)\\@.*\\..*$/i',
    ['abuse@x.org', 'ABUSE@X.ORG', 'abuse@xorg', 'xabuse@x.org', 'noc@a.b.c'],
  ],
  ['/a{2,3}b/', ['ab', 'aab', 'aaab', 'aaaab', 'b']],
  ['/^a{2,3}$/', ['a', 'aa', 'aaa', 'aaaa']],
  ['/^a{2,}$/', ['a', 'aa', 'aaaaaaa']],
  ['/\\bfoo\\b/', ['foo', 'a foo b', 'afoo', 'foo_', 'foo.']],
  ['/\\Bfoo/', ['foo', 'afoo']],
  ['/[^a-c]x/', ['ax', 'dx', 'x', '\nx']],
  ['/[\\d.]+z/', ['1.2z', 'z', 'a.z']],
  ['/[\\w-]+\\.example$/', ['a-b.example', '.example', 'a-b.example.org']],
  ['/^[a-f\\D]+$/', ['abc', 'xyz', 'ab1']],
  ['/colou?r/i', ['COLOR', 'colour', 'colr']],
  ['/(?:ab|cd)+e/', ['abcde', 'abe', 'ace', 'cdcdabe']],
  ['/x*/', ['', 'y']],
  ['/^$/', ['', 'a']],
  ['/a.c/', ['abc', 'a\nc', 'ac']],
  ['/a.c/s', ['abc', 'a\nc']],
  ['/^b/m', ['a\nb', 'ab']],
  ['/a$/m', ['a\nb', 'ab']],
  ['/\\x41\\u0042/', ['AB', 'ab']],
  ['/[é-ë]/i', ['É', 'ê', 'e']],
  ['/\\.\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\^\\$\\//', ['.*+?()[]{}|^$/', '.*+?']],
  ['/a{,2}/', ['a{,2}', 'aa']],
];

for (const [p, values] of AGREE) {
  test(`agrees with JavaScript: ${p}`, () => {
    const m = must(/^\/(.*)\/([a-z]*)$/s.exec(p), '/^\\/(.*)\\/([a-z]*)$/s.exec(p)');
    const js = new RegExp(must(m[1], 'm[1]').replace(/\\@/g, '@'), m[2]);
    const mine = compilePatterns([p]);
    for (const v of values) assert.equal(mine.search(v) >= 0, js.test(v), `${p} on ${JSON.stringify(v)}`);
  });
}

test('PCRE specifics: $ before a final newline, D, A, inline flags, named groups, lazy/possessive suffixes, other delimiters', () => {
  const t = (p: string, v: string) => compilePatterns([p]).search(v) >= 0;
  assert.equal(t('/abc$/', 'abc\n'), true);
  assert.equal(t('/abc$/D', 'abc\n'), false);
  assert.equal(t('/abc\\z/', 'abc\n'), false);
  assert.equal(t('/abc\\Z/', 'abc\n'), true);
  assert.equal(t('/bc/A', 'abc'), false);
  assert.equal(t('/ab/A', 'abc'), true);
  assert.equal(t('/a(?i)bc/', 'aBC'), true);
  assert.equal(t('/a(?i)bc/', 'ABC'), false);
  assert.equal(t('/a(?i:b)c/', 'aBc'), true);
  assert.equal(t('/a(?i:b)c/', 'aBC'), false);
  assert.equal(t('/(?i)a(?-i:b)/', 'Ab'), true);
  assert.equal(t('/(?i)a(?-i:b)/', 'AB'), false);
  assert.equal(t('/(?P<x>ab)+?c/', 'ababc'), true);
  assert.equal(t('/(?<x>a)++b/', 'aab'), true);
  assert.equal(t('#^/path/#i', '/PATH/x'), true);
  assert.equal(t('~a|b~', 'zb'), true);
  assert.equal(t('/[[:alpha:]]+[[:digit:]]/', 'abc1'), true);
  assert.equal(t('/[[:^digit:]]/', '123'), false);
  // the pattern whose match ends first is reported (the lowest index on a tie)
  assert.equal(compilePatterns(['/zzz/', '/b/', '/a/']).search('ab'), 2);
  assert.equal(compilePatterns(['/zzz/', '/b/', '/a?b/']).search('ab'), 1);
  assert.equal(compilePatterns(['/zzz/', '/b/']).search('ac'), -1);
});

test('refused with a reason: features that need backtracking, bad syntax, oversized programs', () => {
  const cases: [string, RegExp][] = [
    ['/(a)\\1/', /backreferences are not supported/],
    ['/(?<n>a)\\k<n>/', /backreferences are not supported/],
    ['/a(?=b)/', /lookahead is not supported/],
    ['/a(?!b)/', /negative lookahead is not supported/],
    ['/(?<=a)b/', /lookbehind is not supported/],
    ['/(?>a+)b/', /atomic group is not supported/],
    ['/(?(1)a|b)/', /conditional is not supported/],
    ['/(?R)/', /recursion is not supported/],
    ['/a**/', /quantifier follows a quantifier/],
    ['/*a/', /nothing to repeat/],
    ['/(ab/', /missing "\)"/],
    ['/ab)/', /unbalanced "\)"/],
    ['/[a-/', /missing "\]"/],
    ['/[z-a]/', /character range out of order/],
    ['/a{5,2}/', /repetition range out of order/],
    ['/a{1001}/', /repetition count above 1000/],
    ['/\\p{L}/', /unsupported escape \\p/],
    ['/x/x', /flag x/],
    ['/x/U', /flag U/],
    ['no delimiters', /expected a delimited pattern/],
    [`/${'(a{1000}){1000}'}/`, new RegExp(`more than ${MAX_STATES} states`)],
  ];
  for (const [p, re] of cases) assert.match(vetPattern(p) ?? 'accepted', re, p);
  assert.equal(vetPattern('bare ^pattern$', true), undefined, 'bare patterns allowed for user entries');
  // nested repetitions of an empty group compile to nothing instead of looping 1000^4 times
  assert.equal(vetPattern('/a((((?:){1000}){1000}){1000}){1000}b/'), undefined);
  assert.equal(compilePatterns(['/a((((?:){1000}){1000}){1000}){1000}b/']).states < 10, true);
  assert.equal(compilePatterns(['/a((((?:){1000}){1000}){1000}){1000}b/']).search('xaby'), 0);
  assert.equal(compilePatterns(['/a(){3}(|){2}b/']).search('ab'), 0);
});

// how long these take is measured by `npm run bench` (the F18 row), not here
test('patterns that make backtracking engines hang answer on adversarial values', () => {
  const prog = compilePatterns(CATASTROPHIC_REGEXES);
  for (const v of CATASTROPHIC_VALUES) assert.equal(typeof prog.search(v), 'number');
  assert.equal(compilePatterns(['/(a+)+$/']).search(`${'a'.repeat(5000)}!`), -1);
  assert.equal(compilePatterns(['/(a+)+$/']).search(`!${'a'.repeat(5000)}`), 0);
});

test('a user regex in the publish allowlist cannot stall a publish check', () => {
  const f = new PublishFilter({ allowlist: [{ type: 'regex', value: '^(a+)+$' }] });
  const long = normaliseObservable('url', `http://example.com/${'a'.repeat(1900)}!`);
  assert.ok(long.ok);
  const d = f.check(long.observable, []);
  assert.equal(d.publish, true);
});

test('a regex list larger than one program is split, every pattern still in use', async () => {
  const { WarninglistMatcher, parseWarninglist } = await import('../../src/filter/warninglists.js');
  // 60 patterns of ~1,000 states each: more than MAX_STATES together
  const list = Array.from({ length: 60 }, (_, i) => `/^p${i}-[a-z]{999}$/`);
  const doc = parseWarninglist({ name: 'Big', type: 'regex', list }, 'big');
  assert.ok(doc.ok);
  const { matcher, problems } = WarninglistMatcher.compile([doc.list]);
  assert.deepEqual(problems, []);
  assert.equal(must(matcher.lists[0], 'matcher.lists[0]').entries, 60);
  for (const i of [0, 31, 59]) {
    const hits = matcher.match({ type: 'url', value: `p${i}-${'q'.repeat(999)}` });
    assert.deepEqual(
      hits.map((h) => h.entry),
      [list[i]],
    );
  }
});

test('random patterns agree with JavaScript on random short values (differential)', () => {
  let seed = 2024;
  const rnd = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
    return seed % n;
  };
  const atom = (depth: number): string => {
    switch (rnd(depth > 2 ? 4 : 7)) {
      case 0:
        return 'a';
      case 1:
        return 'b';
      case 2:
        return must(['.', '[ab]', '[^a]', '\\w', 'c'][rnd(5)], "['.', '[ab]', '[^a]', '\\\\w', 'c'][rnd(5)]");
      case 3:
        return must(['^', '$', '\\b'][rnd(3)], "['^', '$', '\\\\b'][rnd(3)]");
      case 4:
        return `(${alt(depth + 1)})`;
      case 5:
        return `(?:${alt(depth + 1)})`;
      default:
        return `(?:${seq(depth + 1)})`;
    }
  };
  const quant = () => ['', '', '*', '+', '?', '{2}', '{1,3}', '{0,}', '*?'][rnd(9)];
  const seq = (depth: number): string => {
    let s = '';
    for (let n = 1 + rnd(4); n > 0; n--) {
      const a = atom(depth);
      s += a + (a === '^' || a === '$' || a === '\\b' ? '' : quant());
    }
    return s;
  };
  const alt = (depth: number): string => (rnd(3) === 0 ? `${seq(depth)}|${seq(depth)}` : seq(depth));
  let compared = 0;
  let matched = 0;
  for (let p = 0; p < 300; p++) {
    const body = alt(0);
    const flags = rnd(4) === 0 ? 'i' : '';
    const js = new RegExp(body, flags);
    const mine = compilePatterns([`/${body}/${flags}`]);
    for (let k = 0; k < 25; k++) {
      let v = '';
      for (let n = rnd(9); n > 0; n--) v += 'abAc '[rnd(5)];
      const expect = js.test(v);
      assert.equal(mine.search(v) >= 0, expect, `/${body}/${flags} on ${JSON.stringify(v)}`);
      compared++;
      if (expect) matched++;
    }
  }
  assert.ok(matched > compared / 5 && matched < compared, `${matched} of ${compared} matched`);
});
