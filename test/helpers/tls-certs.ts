import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** True when `openssl` can generate test certificates here. */
export const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

/** A self-signed certificate (PEM files in `dir`) for the given subjectAltName, e.g. `IP:127.0.0.1`. */
export function makeCert(dir: string, name: string, san: string): { key: string; cert: string } {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.pem`);
  const r = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-addext',
      `subjectAltName=${san}`,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  return { key, cert };
}

/**
 * A CA and a certificate it signed for `san` that expired in January 2020 (`openssl ca` with
 * explicit dates), so a client trusting the CA meets only the expiry.
 */
export function makeExpiredCert(dir: string, san: string): { ca: string; key: string; cert: string } {
  const at = (f: string) => join(dir, f);
  writeFileSync(at('index.txt'), '');
  writeFileSync(at('serial'), '01\n');
  writeFileSync(
    at('ca.cnf'),
    `[ca]\ndefault_ca = d\n[d]\ndatabase = ${at('index.txt')}\nnew_certs_dir = ${dir}\nserial = ${at('serial')}\ndefault_md = sha256\npolicy = p\ncopy_extensions = copy\n[p]\ncommonName = supplied\n`,
  );
  const run = (args: string[]) => {
    const r = spawnSync('openssl', args, { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  };
  run([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    at('ca.key'),
    '-out',
    at('ca.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=stixgate test CA',
  ]);
  run([
    'req',
    '-new',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    at('expired.key'),
    '-out',
    at('expired.csr'),
    '-subj',
    '/CN=expired',
    '-addext',
    `subjectAltName=${san}`,
  ]);
  run([
    'ca',
    '-batch',
    '-config',
    at('ca.cnf'),
    '-cert',
    at('ca.pem'),
    '-keyfile',
    at('ca.key'),
    '-in',
    at('expired.csr'),
    '-out',
    at('expired.pem'),
    '-startdate',
    '20200101000000Z',
    '-enddate',
    '20200102000000Z',
  ]);
  return { ca: at('ca.pem'), key: at('expired.key'), cert: at('expired.pem') };
}
