import { readFileSync } from 'node:fs';
import { EnvHttpProxyAgent, ProxyAgent, type Dispatcher } from 'undici';
import { StixgateError, errorMessage } from '../core/errors.js';
import { guardedLookup, type Resolver } from './ssrf.js';
import type { HttpPolicy } from './types.js';

function readPem(
  component: string,
  what: 'ca_file' | 'cert_file' | 'key_file',
  path: string | undefined,
): Buffer | undefined {
  if (!path) return undefined;
  try {
    return readFileSync(path);
  } catch (e) {
    const label = what === 'ca_file' ? 'CA file' : what === 'cert_file' ? 'client certificate' : 'client key';
    throw new StixgateError(
      'STIXGATE_ERR_CONFIG_INVALID',
      `${component}: ${label} ${path} could not be read: ${errorMessage(e)}`,
      { reason: what },
    );
  }
}

/**
 * The connection layer under the client's interceptors: TLS (verification, extra CAs, client
 * certificate), timeouts, the connect-time SSRF check and the route (direct, the integration's
 * `proxy`, or the environment's `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY`).
 *
 * The connect-time SSRF check (`guardedLookup`) runs on direct connections, where it sees the
 * address actually connected to. Through a proxy the proxy resolves the target (the client
 * checks the name's addresses before sending, ./proxy-guard.ts); the proxy itself is configured,
 * so it may sit on a private address.
 *
 * A proxy with credentials tunnels every request with CONNECT (plain http too), so
 * `Proxy-Authorization` travels in the CONNECT request only and can never reach a target, even
 * after a cross-origin redirect.
 */
export function createTransport(component: string, policy: HttpPolicy, resolver?: Resolver): Dispatcher {
  const tls = {
    rejectUnauthorized: policy.verifyTls,
    ...optional('ca', readPem(component, 'ca_file', policy.caFile)),
    ...optional('cert', readPem(component, 'cert_file', policy.certFile)),
    ...optional('key', readPem(component, 'key_file', policy.keyFile)),
  };
  const timeouts = {
    headersTimeout: policy.headersTimeoutMs,
    bodyTimeout: policy.bodyTimeoutMs,
    connectTimeout: Math.min(10_000, policy.headersTimeoutMs),
  };
  const connect = {
    ...tls,
    timeout: timeouts.connectTimeout,
    ...(policy.allowPrivate ? {} : { lookup: guardedLookup(resolver) }),
  };
  if (policy.proxy) {
    const credentials = policy.proxy.username !== undefined;
    return new ProxyAgent({
      uri: policy.proxy.url,
      ...(credentials
        ? {
            token: `Basic ${Buffer.from(`${policy.proxy.username}:${policy.proxy.password ?? ''}`).toString('base64')}`,
          }
        : {}),
      proxyTunnel: credentials,
      requestTls: tls,
      ...timeouts,
    });
  }
  if (policy.proxy === false) {
    return new EnvHttpProxyAgent({ ...timeouts, connect, httpProxy: '', httpsProxy: '', noProxy: '' });
  }
  return new EnvHttpProxyAgent({ ...timeouts, connect, proxyTunnel: envProxyHasCredentials() });
}

function envProxyHasCredentials(env: NodeJS.ProcessEnv = process.env): boolean {
  return [env.https_proxy, env.HTTPS_PROXY, env.http_proxy, env.HTTP_PROXY].some((u) => {
    try {
      return u ? new URL(u).username !== '' : false;
    } catch {
      return false;
    }
  });
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}
