import type { Observable } from '../../src/core/stix.js';
import { lookupNoteId } from '../../src/enrich/records.js';
import type { Enricher, EnrichmentResult } from '../../src/enrich/types.js';
import type { SinkRunContext } from '../../src/delivery/types.js';
import { isRecord, parseJson, probeGet, protocolError, serviceGet } from '../enrich-kit/http.js';
import { RdapBootstrap } from './bootstrap.js';
import { RDAP_MEDIA_TYPE, mapRdapDomain, mapRdapNetwork } from './map.js';
import type { RdapConfig } from './schema.js';

/**
 * RDAP lookup (RFC 9082 `domain/{name}`, `ip/{address}`) against the configured server or the one
 * the IANA bootstrap names. A 404, or a TLD / range no RDAP server is registered for, is
 * "nothing known". Same-origin redirects are followed by the HttpClient; registries that redirect
 * to another registry (RIR referrals) are refused by the client's policy, which is why the
 * bootstrap picks the authoritative server directly.
 */
export function createRdapEnricher(config: RdapConfig): Enricher {
  const fixed = config.url === undefined ? undefined : config.url.endsWith('/') ? config.url : `${config.url}/`;
  const bootstrap = new RdapBootstrap(
    config.bootstrap_url.endsWith('/') ? config.bootstrap_url : `${config.bootstrap_url}/`,
    config.bootstrap_ttl_hours * 3_600_000,
  );
  return {
    types: ['domain-name', 'ipv4-addr', 'ipv6-addr'],
    async enrich(observable: Observable, ctx: SinkRunContext): Promise<EnrichmentResult | undefined> {
      if (observable.cidr) return undefined;
      const server = fixed ?? (await bootstrap.serverFor(observable, ctx));
      if (!server) return undefined;
      const path = observable.type === 'domain-name' ? 'domain' : 'ip';
      const req = {
        service: 'rdap',
        url: new URL(`${path}/${encodeURIComponent(observable.value)}`, server).href,
        accept: [RDAP_MEDIA_TYPE, 'application/json'],
        defaultRetryAfterMs: 60_000,
      };
      const res = await serviceGet(ctx, req);
      if (!res) return undefined;
      const doc = parseJson(ctx, req, await res.text());
      const fail = (what: string, at: string) => protocolError(ctx, req, what, at);
      if (!isRecord(doc)) throw fail('the answer is not a JSON object', '$');
      const opts = { now: ctx.now, noteId: lookupNoteId(ctx.id, observable) };
      return path === 'domain'
        ? mapRdapDomain(observable, doc, opts, fail)
        : mapRdapNetwork(observable, doc, opts, fail);
    },
    async probe(ctx: SinkRunContext): Promise<string> {
      // the configured server's help document (RFC 9082 §3.1.6); without one, the bootstrap
      // registry that names the server for each query
      if (!fixed) {
        const servers = await bootstrap.serverFor({ type: 'domain-name', value: 'example.com' }, ctx);
        return `rdap bootstrap readable${servers ? `, .com served by ${new URL(servers).host}` : ''}`;
      }
      const req = {
        service: 'rdap',
        url: new URL('help', fixed).href,
        accept: [RDAP_MEDIA_TYPE, 'application/json'],
        defaultRetryAfterMs: 60_000,
      };
      const { summary, res } = await probeGet(ctx, req, 'no key needed');
      await res?.dump();
      return summary;
    },
  };
}
