/**
 * Adversarial inputs for the core model's public functions (FAULTS F18): 100 KB strings built to
 * trip backtracking regexes and quadratic scanners, and inputs just under each length cap where the
 * full scanners run. Shared by the F18 test (which checks every call ends with a value or a typed
 * rejection) and the `redos` benchmark (which times them against the 50 ms target).
 */
import {
  refang,
  normaliseObservable,
  detectObservable,
  detectHashAlgorithm,
  parseIpv4,
  parseIpv6,
  normaliseHash,
  quoteValue,
} from '../../src/core/observable.js';
import { canonicalPattern, escapePatternString, extractObservables, parsePattern } from '../../src/core/pattern.js';
import { canonicalize } from '../../src/core/canonical-json.js';
import { uuidv5 } from '../../src/core/ids.js';
import { STIX_SCO_NAMESPACE, type ObservableType } from '../../src/core/stix.js';

export const SIZE = 100 * 1024;
export function fill(unit: string, size = SIZE): string {
  return unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
}

export const ADVERSARIAL: Record<string, string> = {
  dotdot: `http://a.com/${fill('../')}`,
  defangDots: fill('[.]'),
  defangMixed: `hxxp://${fill('a[.](dot)[at]{.}[:]')}`,
  labels: fill('a.'),
  dots: fill('.'),
  brackets: fill('['),
  closeBrackets: fill(']'),
  parens: fill('('),
  percents: `http://a.com/${fill('%')}`,
  percentHex: `http://a.com/${fill('%4')}`,
  colons: fill(':'),
  ats: fill('@'),
  slashes: fill('/'),
  hexish: fill('a'),
  digitsDots: fill('1.'),
  ipv6ish: fill('1:'),
  unicode: fill('ü.'),
  zeroWidth: fill('a\u200B'),
  quotes: fill("'"),
  backslashes: fill('\\'),
  spaces: `x${fill(' ')}x`,
};

/** Just under the caps, so the full scanners run. */
/** Regular expressions that make backtracking engines take exponential time (the warninglist and allowlist regex engine is linear). */
export const CATASTROPHIC_REGEXES = [
  '/(a+)+$/',
  '/(a|aa)*b/',
  '/(a*)*b/',
  '/^(\\w+\\s?)*$/',
  '/(.*a){12}/',
  '/(x+x+)+y/',
  '/^(([a-z])+.)+[A-Z]([a-z])+$/',
  '/.*.*.*.*.*=.*/',
];

/** Values that drive those expressions into their worst case. */
export const CATASTROPHIC_VALUES = [
  `${'a'.repeat(2048)}!`,
  'x'.repeat(2048),
  'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!',
  `${'a '.repeat(1000)}!`,
  'a'.repeat(100_000),
];

export const NEAR_CAP: Record<string, [ObservableType, string]> = {
  url: ['url', `http://a.com/${fill('../', 2030)}`],
  urlPercent: ['url', `http://a.com/${fill('%zz', 2030)}`],
  urlHost: ['url', `http://${fill('a.', 250)}a/`],
  domain: ['domain-name', `${fill('a.', 251)}aa`],
  email: ['email-addr', `${fill('a.', 60)}a@${fill('b.', 250)}bb`],
};

const TYPES: ObservableType[] = [
  'ipv4-addr',
  'ipv6-addr',
  'domain-name',
  'url',
  'email-addr',
  'file',
  'x509-certificate',
];

/** Every public function of the core model that takes text from a feed. */
export function publicFunctions(): Record<string, (s: string) => unknown> {
  const fns: Record<string, (s: string) => unknown> = {
    refang,
    detectObservable,
    detectHashAlgorithm,
    parseIpv4,
    parseIpv6,
    quoteValue,
    escapePatternString,
    canonicalize,
    uuidv5: (s) => uuidv5(STIX_SCO_NAMESPACE, s),
    normaliseHash: (s) => normaliseHash('x509-certificate', s),
    parsePattern,
    canonicalPattern,
    extractObservables,
    patternString: (s) => parsePattern(`[url:value = '${escapePatternString(s.slice(0, 60_000))}']`),
    patternInSet: (s) =>
      extractObservables(
        `[domain-name:value IN (${Array.from({ length: 3000 }, () => `'${escapePatternString(s.slice(0, 15))}'`).join(', ')})]`,
      ),
  };
  for (const t of TYPES) fns[`normalise:${t}`] = (s) => normaliseObservable(t, s);
  return fns;
}
