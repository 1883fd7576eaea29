/**
 * Structure-aware mutations for the mapper fuzz suite. A case is a seed document and a short plan
 * of mutations (fast-check generates and shrinks the plan): JSON documents are mutated as trees
 * (values replaced by hostile values, keys deleted, `__proto__`/`constructor` keys added, types
 * swapped, array items duplicated), XML as elements, text and attributes (idrefs retargeted, so
 * cycles and diamonds appear), line formats as lines and fields; every kind also gets byte-level
 * damage (truncation, inserted characters).
 */
import fc from 'fast-check';
import { must } from '../helpers/must.js';

export type DocKind = 'json' | 'xml' | 'lines';

/** Values that have broken parsers, normalisers and sinks elsewhere (FAULTS F3-F20). */
export const HOSTILE_STRINGS: readonly string[] = [
  '',
  ' ',
  '0.0.0.0/0',
  '::/0',
  '10.0.0.0/7',
  '999.1.1.1',
  '1.2.3',
  '017.0.0.1',
  '2130706433',
  'http://999.1.1.1/',
  'http://6/',
  'http://0x7f.1/',
  'http://[::1',
  'hxxp://evil[.]com/a',
  '1.2.3[.]4',
  'evil example.com',
  'evil\u0000.com',
  'ev\u202eil.com',
  'e\u200bvil.com',
  'bücher.de',
  'xn--',
  `${'a'.repeat(64)}.com`,
  `${'a.'.repeat(200)}com`,
  '=HYPERLINK("http://x","y")',
  '@SUM(1)',
  '-2+3',
  '+1',
  '\tTAB',
  '\rCR',
  '__proto__',
  'constructor',
  'prototype',
  'd41d8cd98f00b204e9800998ecf8427e',
  'D41D8CD98F00B204E9800998ECF8427',
  'not a hash',
  'zz'.repeat(32),
  'x@y',
  '@',
  'a@b@c',
  'CVE-2024-0001',
  'CVE-99',
  '2024-02-30T00:00:00Z',
  '0001-01-01T00:00:00',
  '1e999',
  '-0',
  'NaN',
  'null',
  'true',
  '\ud800',
  '\uffff',
  '💥',
  'indicator--00000000-0000-4000-8000-000000000000',
  'bundle--x',
  "[ipv4-addr:value = '1.2.3.4'",
  "[ipv4-addr:value = '0.0.0.0/0']",
  '<x>',
  '&amp;',
  ']]>',
  'x'.repeat(5000),
  '../../etc/passwd',
  'file:///etc/passwd',
  'javascript:alert(1)',
  '%00',
  '\\',
  "'",
  '"',
  ',',
  ';',
  '#',
  '\n',
  '\r\n',
];

const HOSTILE_JSON: readonly unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  1e308,
  -0,
  2 ** 53 + 1,
  [],
  {},
  [null],
  [[[[[[[[[[[]]]]]]]]]]],
  { a: { b: { c: {} } } },
  ['a', 1, null],
  { type: 'bundle' },
];

export interface Step {
  op: number;
  a: number;
  b: number;
  pick: number;
  s: string;
}

export const stepArb: fc.Arbitrary<Step> = fc.record({
  op: fc.nat(15),
  a: fc.nat(),
  b: fc.nat(),
  pick: fc.nat(),
  s: fc.string({ unit: 'binary', maxLength: 24 }),
});

/** A case: which seed, and the mutation plan. */
export const planArb = (seeds: number): fc.Arbitrary<{ seed: number; steps: Step[] }> =>
  fc.record({ seed: fc.nat(Math.max(0, seeds - 1)), steps: fc.array(stepArb, { minLength: 1, maxLength: 5 }) });

function hostileString(st: Step): string {
  return st.pick % 5 === 0
    ? st.s
    : must(HOSTILE_STRINGS[st.pick % HOSTILE_STRINGS.length], 'HOSTILE_STRINGS[st.pick % HOSTILE_STRINGS.length]');
}

function hostileValue(st: Step): unknown {
  return st.pick % 3 === 0 ? structuredClone(HOSTILE_JSON[st.pick % HOSTILE_JSON.length]) : hostileString(st);
}

// ---------------------------------------------------------------------------------------------
// JSON

type Slot = { parent: Record<string, unknown> | unknown[]; key: string | number };

function slots(root: unknown, max = 5000): Slot[] {
  const out: Slot[] = [];
  const stack: unknown[] = [root];
  while (stack.length && out.length < max) {
    const v = stack.pop();
    if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) {
        out.push({ parent: v, key: i });
        stack.push(x);
      }
    } else if (v && typeof v === 'object') {
      for (const k of Object.keys(v)) {
        out.push({ parent: v as Record<string, unknown>, key: k });
        stack.push((v as Record<string, unknown>)[k]);
      }
    }
  }
  return out;
}

function setOwn(o: Record<string, unknown>, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

function mutateJsonTree(root: unknown, st: Step): unknown {
  const all = slots(root);
  if (all.length === 0) return st.op % 2 ? [root] : hostileValue(st);
  const slot = must(all[st.a % all.length], 'all[st.a % all.length]');
  const p = slot.parent as Record<string | number, unknown>;
  const cur = p[slot.key];
  switch (st.op % 8) {
    case 0:
      p[slot.key] = hostileValue(st);
      break;
    case 1:
      if (Array.isArray(slot.parent)) slot.parent.splice(slot.key as number, 1);
      else delete p[slot.key];
      break;
    case 2:
      if (Array.isArray(slot.parent)) slot.parent.splice(slot.key as number, 0, structuredClone(cur));
      else p[slot.key] = [cur, cur];
      break;
    case 3: {
      const target =
        cur && typeof cur === 'object' && !Array.isArray(cur)
          ? (cur as Record<string, unknown>)
          : (slot.parent as Record<string, unknown>);
      if (!Array.isArray(target))
        setOwn(
          target,
          must(
            ['__proto__', 'constructor', 'prototype'][st.b % 3],
            "['__proto__', 'constructor', 'prototype'][st.b % 3]",
          ),
          st.b % 2 ? { polluted: 1, prototype: { polluted: 1 } } : hostileValue(st),
        );
      break;
    }
    case 4:
      p[slot.key] =
        typeof cur === 'string'
          ? st.b % 2
            ? Number(cur.length)
            : [cur]
          : typeof cur === 'object'
            ? JSON.stringify(cur)
            : String(cur);
      break;
    case 5:
      if (typeof cur === 'string') p[slot.key] = st.b % 2 ? cur + hostileString(st) : hostileString(st) + cur;
      else p[slot.key] = hostileString(st);
      break;
    case 6: {
      // move a value to another slot (same-shaped documents with swapped parts)
      const other = must(all[st.b % all.length], 'all[st.b % all.length]');
      (other.parent as Record<string | number, unknown>)[other.key] = structuredClone(cur);
      break;
    }
    default: {
      // grow an array: many copies of one item (bounded output must follow the input size)
      if (Array.isArray(cur) && cur.length > 0)
        for (let i = 0; i < 1 + (st.b % 50); i++) cur.push(structuredClone(cur[i % cur.length]));
      else p[slot.key] = hostileValue(st);
    }
  }
  return root;
}

// ---------------------------------------------------------------------------------------------
// XML

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function mutateXml(doc: string, st: Step): string {
  switch (st.op % 6) {
    case 0: {
      // a text node replaced (escaped, so the document stays well-formed)
      const texts = [...doc.matchAll(/>([^<>]+)</g)];
      if (texts.length === 0) return doc;
      const m = must(texts[st.a % texts.length], 'texts[st.a % texts.length]');
      const at = (m.index ?? 0) + 1;
      return doc.slice(0, at) + escapeXml(hostileString(st)) + doc.slice(at + must(m[1], 'm[1]').length);
    }
    case 1: {
      // an idref pointed at another id of the document: cycles and diamonds
      const refs = [...doc.matchAll(/idref="([^"]*)"/g)];
      const ids = [...doc.matchAll(/\bid="([^"]*)"/g)].map((m) => m[1]);
      if (refs.length === 0 || ids.length === 0) return doc;
      const m = must(refs[st.a % refs.length], 'refs[st.a % refs.length]');
      const at = (m.index ?? 0) + 7;
      return (
        doc.slice(0, at) +
        escapeXml(must(ids[st.b % ids.length], 'ids[st.b % ids.length]')) +
        doc.slice(at + must(m[1], 'm[1]').length)
      );
    }
    case 2: {
      // an attribute value replaced
      const attrs = [...doc.matchAll(/=\s*"([^"]*)"/g)];
      if (attrs.length === 0) return doc;
      const m = must(attrs[st.a % attrs.length], 'attrs[st.a % attrs.length]');
      const at = (m.index ?? 0) + must(m[0], 'm[0]').indexOf('"') + 1;
      return doc.slice(0, at) + escapeXml(hostileString(st)) + doc.slice(at + must(m[1], 'm[1]').length);
    }
    case 3: {
      // an element (with its children) duplicated next to itself
      const opens = [...doc.matchAll(/<([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)[^<>]*>/g)].filter(
        (m) => !m[0].endsWith('/>') && !m[0].startsWith('<?'),
      );
      if (opens.length === 0) return doc;
      const m = must(opens[st.a % opens.length], 'opens[st.a % opens.length]');
      const name = (m[1] ?? '') + must(m[2], 'm[2]');
      const start = m.index ?? 0;
      const close = doc.indexOf(`</${name}>`, start);
      if (close < 0) return doc;
      const end = close + name.length + 3;
      const el = doc.slice(start, end);
      return doc.slice(0, end) + el.repeat(1 + (st.b % 3)) + doc.slice(end);
    }
    case 4: {
      // raw (unescaped) text inserted: malformed XML, entities, CDATA ends
      const at = st.a % (doc.length + 1);
      return doc.slice(0, at) + hostileString(st) + doc.slice(at);
    }
    default: {
      // a `__proto__`/`constructor` element or attribute
      const at = doc.indexOf('>', doc.indexOf('<', doc.indexOf('?>') + 1)) + 1;
      if (at <= 0) return doc;
      const k = ['__proto__', 'constructor', 'prototype'][st.b % 3];
      return (
        doc.slice(0, at) +
        (st.pick % 2 ? `<${k}>${escapeXml(hostileString(st))}</${k}>` : `<x ${k}="1"/>`) +
        doc.slice(at)
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------
// lines (text lists, CSV)

function mutateLines(doc: string, st: Step): string {
  const lines = doc.split('\n');
  const i = st.a % lines.length;
  switch (st.op % 6) {
    case 0:
      lines[i] = hostileString(st);
      break;
    case 1:
      lines.splice(i, 0, hostileString(st));
      break;
    case 2: {
      const sep = must(lines[i], 'lines[i]').includes(',') ? ',' : ' ';
      const f = must(lines[i], 'lines[i]').split(sep);
      f[st.b % f.length] = hostileString(st);
      lines[i] = f.join(sep);
      break;
    }
    case 3:
      lines.splice(i, 0, ...Array.from({ length: 1 + (st.b % 20) }, () => must(lines[i], 'lines[i]')));
      break;
    case 4:
      lines[i] = st.b % 2 ? `"${lines[i]}` : `${lines[i]},${'x,'.repeat(st.b % 10)}`;
      break;
    default:
      return (st.b % 2 ? '\ufeff' : '') + lines.join(st.b % 3 ? '\r\n' : '\n');
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------

function bytes(doc: string, st: Step): string {
  const at = st.a % (doc.length + 1);
  switch (st.b % 3) {
    case 0:
      return doc.slice(0, at); // truncated
    case 1:
      return doc.slice(0, at) + st.s + doc.slice(at);
    default:
      return doc.slice(0, at) + doc.slice(at, at + 1 + (st.pick % 64)).repeat(2) + doc.slice(at + 1 + (st.pick % 64));
  }
}

/** Applies a plan to a seed document of a kind. */
export function applyPlan(kind: DocKind, seed: string, steps: readonly Step[]): string {
  if (kind === 'json') {
    let tree: unknown = JSON.parse(seed);
    const damage: Step[] = [];
    for (const st of steps) {
      if (st.op === 15) damage.push(st);
      else tree = mutateJsonTree(tree, st);
    }
    let text = JSON.stringify(tree) ?? 'null';
    for (const st of damage) text = bytes(text, st);
    return text;
  }
  let doc = seed;
  for (const st of steps) {
    if (st.op === 15) doc = bytes(doc, st);
    else doc = kind === 'xml' ? mutateXml(doc, st) : mutateLines(doc, st);
  }
  return doc;
}
