import { createHash } from 'node:crypto';
import { canonicalize } from '../core/canonical-json.js';
import { deterministicId } from '../core/ids.js';
import type { StixObject } from '../core/stix.js';

/**
 * A STIX 2.1 bundle written as it is read: the envelope, then one object at a time, so memory
 * holds one store page whatever the export's size. Each object is written in its canonical form
 * (RFC 8785: sorted keys), so the same objects give the same text and the same bundle id whether
 * they were read from the store or from a daemon's search API; the bundle id comes last, a UUIDv5
 * over the objects written.
 * Returns the number of objects written.
 */
export async function writeBundle(
  objects: AsyncIterable<StixObject>,
  write: (text: string) => void | Promise<void>,
): Promise<number> {
  await write('{"type":"bundle","objects":[');
  const digest = createHash('sha256');
  let n = 0;
  for await (const o of objects) {
    const text = canonicalize(o);
    digest.update(text).update('\n');
    await write(`${n === 0 ? '\n' : ',\n'}${text}`);
    n++;
  }
  await write(
    `${n === 0 ? '' : '\n'}],"id":${JSON.stringify(deterministicId('bundle', `export:${digest.digest('hex')}`))}}\n`,
  );
  return n;
}
