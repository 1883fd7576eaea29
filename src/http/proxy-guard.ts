import { isIP } from 'node:net';
import { defaultResolver, isDeniedAddress, type Resolver } from './ssrf.js';
import type { HttpPolicy } from './types.js';

const PROXY_ENV = ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY'];

/** Whether a request of this policy may go through a forward proxy (configured, or from the environment). */
export function mayUseProxy(policy: HttpPolicy, env: NodeJS.ProcessEnv = process.env): boolean {
  if (policy.proxy) return true;
  if (policy.proxy === false) return false;
  return PROXY_ENV.some((k) => !!env[k]);
}

/**
 * SSRF check for a target reached through a forward proxy (DNS rebinding through a proxy). The proxy,
 * not this process, resolves the target's name, so the connect-time check of direct connections
 * (`guardedLookup`) never sees the address. Before the request is sent, the name is resolved here
 * and refused when any address is in a denied range. A name that does not resolve locally
 * (proxy-only DNS) is left to the proxy. What remains open is a name that changes between this
 * resolution and the proxy's (rebinding with a zero TTL): the proxy's own egress policy must deny
 * private ranges for that (docs/networks.md). Returns the refusal, or undefined.
 */
export async function refuseProxiedTarget(
  url: string,
  policy: HttpPolicy,
  resolver: Resolver = defaultResolver,
): Promise<string | undefined> {
  if (policy.allowPrivate || !mayUseProxy(policy)) return undefined;
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) return undefined; // literals are judged by checkUrl
  let addresses: Awaited<ReturnType<Resolver>>;
  try {
    addresses = await resolver(host);
  } catch {
    return undefined;
  }
  const denied = addresses.find((a) => isDeniedAddress(a.address));
  return denied ? `${host} resolves to a denied address (SSRF policy; checked before the proxy)` : undefined;
}
