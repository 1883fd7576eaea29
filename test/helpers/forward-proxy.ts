import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';

/** What a loopback forward proxy saw: one entry per CONNECT tunnel or absolute-URI request. */
export interface ProxyHit {
  kind: 'connect' | 'forward';
  /** host:port of the target. */
  target: string;
  proxyAuthorization?: string;
}

/**
 * A small forward proxy on 127.0.0.1 for tests: CONNECT tunnels (https, or anything when the
 * client tunnels) and absolute-URI requests (plain http). It forwards requests verbatim,
 * `Proxy-Authorization` included, so a test sees whether the client itself keeps that header
 * away from the target. `hosts` is the proxy's own name resolution (name → address), so a test
 * can make the proxy resolve a name differently from the client (DNS rebinding).
 */
export async function startForwardProxy(
  hosts: Record<string, string> = {},
): Promise<{ url: string; hits: ProxyHit[]; close(): Promise<void> }> {
  const hits: ProxyHit[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const target = new URL(req.url ?? '/');
    hits.push({ kind: 'forward', target: target.host, proxyAuthorization: header(req.headers, 'proxy-authorization') });
    const up = httpRequest(
      {
        host: hosts[target.hostname] ?? target.hostname,
        port: target.port,
        method: req.method,
        path: `${target.pathname}${target.search}`,
        headers: req.headers,
      },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.on('connect', (req, client: Socket, head: Buffer) => {
    hits.push({
      kind: 'connect',
      target: req.url ?? '',
      proxyAuthorization: header(req.headers, 'proxy-authorization'),
    });
    const [host, port] = (req.url ?? '').split(':');
    const up = connect(Number(port), hosts[host ?? ''] ?? host ?? '', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) up.write(head);
      up.pipe(client);
      client.pipe(up);
    });
    up.on('error', () => client.destroy());
    client.on('error', () => up.destroy());
    sockets.add(up);
    sockets.add(client);
  });
  server.on('connection', (s) => sockets.add(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(', ') : v;
}
