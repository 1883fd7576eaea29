import { resolve } from 'node:path';
import { s } from '../core/schema.js';
import type { HttpPolicy, ProxyPolicy } from './types.js';

/**
 * The network keys every source, sink and enricher accepts: TLS trust and client certificate,
 * and the outbound proxy. Without `proxy`, `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` from the
 * environment apply (docs/networks.md).
 */
export const networkSchema = {
  verify_tls: s.bool({ default: true, description: 'verify TLS certificates' }),
  ca_file: s.string({
    optional: true,
    description: 'PEM bundle of extra trusted CAs (relative to the configuration file)',
  }),
  cert_file: s.string({
    optional: true,
    description: 'client certificate (PEM) presented to the server, with key_file (mutual TLS)',
  }),
  key_file: s.string({ optional: true, description: 'private key (PEM) of cert_file' }),
  proxy: s.object(
    {
      url: s.string({ description: 'forward proxy, http://host:port or https://host:port' }),
      username: s.string({
        optional: true,
        description: 'proxy user (Basic); with credentials every request is tunnelled with CONNECT',
      }),
      password: s.string({
        optional: true,
        description: 'proxy password; use a secret reference (${ENV} or ${file:path})',
      }),
    },
    {
      optional: true,
      description: 'outbound proxy for this component; unset: HTTPS_PROXY / HTTP_PROXY / NO_PROXY from the environment',
    },
  ),
};

/** The config path (below a component) of the network key that holds a secret. */
export const NETWORK_SECRET_PATH = 'proxy.password';

export interface NetworkConfig {
  verify_tls: boolean;
  ca_file?: string;
  cert_file?: string;
  key_file?: string;
  proxy?: { url: string; username?: string; password?: string };
}

/** The TLS and proxy part of an HttpPolicy, file paths resolved against the configuration's folder. */
export function networkPolicy(
  c: NetworkConfig,
  configDir: string,
): Pick<HttpPolicy, 'verifyTls' | 'caFile' | 'certFile' | 'keyFile' | 'proxy'> {
  const file = (p: string | undefined): string | undefined => (p ? resolve(configDir, p) : undefined);
  const proxy: ProxyPolicy | undefined = c.proxy
    ? { url: c.proxy.url, username: c.proxy.username, password: c.proxy.password }
    : undefined;
  return {
    verifyTls: c.verify_tls,
    caFile: file(c.ca_file),
    certFile: file(c.cert_file),
    keyFile: file(c.key_file),
    ...(proxy ? { proxy } : {}),
  };
}

/** Problems of a network section: a certificate without its key, a proxy URL that is not http(s). */
export function networkIssues(c: NetworkConfig): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  if (Boolean(c.cert_file) !== Boolean(c.key_file))
    out.push({
      path: c.cert_file ? 'key_file' : 'cert_file',
      message: 'cert_file and key_file go together (mutual TLS)',
    });
  if (c.proxy) {
    let u: URL | undefined;
    try {
      u = new URL(c.proxy.url);
    } catch {
      /* reported below */
    }
    if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:'))
      out.push({ path: 'proxy.url', message: 'proxy URL must be http://host:port or https://host:port' });
    else if (u.username || u.password)
      out.push({
        path: 'proxy.url',
        message: 'put proxy credentials in proxy.username / proxy.password (a secret reference), not in the URL',
      });
    if (c.proxy.password !== undefined && c.proxy.username === undefined)
      out.push({ path: 'proxy.username', message: 'proxy.password needs proxy.username' });
  }
  return out;
}
