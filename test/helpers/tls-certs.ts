import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** True when `openssl` can generate test certificates here. */
export const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

/** A self-signed certificate (PEM files in `dir`) for the given subjectAltName, e.g. `IP:127.0.0.1`. */
export function makeCert(dir: string, name: string, san: string): { key: string; cert: string } {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.pem`);
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`, '-addext', `subjectAltName=${san}`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return { key, cert };
}
