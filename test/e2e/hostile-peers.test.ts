import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createTlsServer } from 'node:https';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cursorName } from '../../src/pipeline/runner.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { PROJECT_ROOT } from '../helpers/corpus.js';
import { hasOpenssl, makeCert } from '../helpers/tls-certs.js';
import { must } from '../helpers/must.js';
import { anyExited, untilValue } from '../helpers/until.js';

/**
 * Issue 18, "no peer can crash the daemon": the daemon runs in a child process with one real
 * `text_list` source per hostile feed server on 127.0.0.1. Every hostile source must fail with a
 * log line naming the source and the reason, the process must stay up and stop cleanly, and no
 * cursor or object of a failed source may be stored.
 */

const CLI = join(PROJECT_ROOT, 'src', 'cli.ts');
const LIST = `${Array.from({ length: 2000 }, (_, i) => `45.${i >> 8}.${i & 255}.9`).join('\n')}\n`;
const HEAD_CHUNKED = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n';
const chunk = (s: string): string => `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`;

/** A raw TCP server: `onRequest` runs once the request head arrived. */
async function rawServer(onRequest: (sock: Socket) => void): Promise<{ server: Server; url: string }> {
  const server = createTcpServer({ allowHalfOpen: true }, (sock) => {
    let head = '';
    sock.on('error', () => undefined);
    sock.on('data', (d) => {
      if (head.includes('\r\n\r\n')) return;
      head += d.toString('latin1');
      if (head.includes('\r\n\r\n')) onRequest(sock);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/list.txt` };
}

interface Peer {
  id: string;
  url: string;
  /** Reasons accepted for this fault (where two deadlines are equal, either may fire first). */
  reasons: string[];
  extra?: string;
  /** timeout_secs of the source: 2 s for the timeout faults, generous otherwise (a loaded machine). */
  timeoutSecs?: number;
}

test('no peer can crash the daemon: hostile feed servers against a daemon in a child process', {
  timeout: 300_000,
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-hostile-'));
  const servers: { close(): void }[] = [];
  const peers: Peer[] = [];
  const add = async (id: string, reasons: string[], onRequest: (sock: Socket) => void, timeoutSecs = 60) => {
    const s = await rawServer(onRequest);
    servers.push(s.server);
    peers.push({ id, url: s.url, reasons, timeoutSecs });
  };

  await add('reset_mid_body', ['reset'], (sock) => {
    sock.write(HEAD_CHUNKED + chunk(LIST.slice(0, 20_000)), () => sock.resetAndDestroy());
  });
  await add('close_during_download', ['reset'], (sock) => {
    // announces 64 MiB, sends 8 MiB, then closes: the download is cut while the client still reads
    sock.write(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${64 << 20}\r\n\r\n`);
    const block = Buffer.from(LIST.repeat(200)).subarray(0, 1 << 20);
    let sent = 0;
    const more = (): void => {
      while (sent < 8) {
        sent++;
        if (!sock.write(block)) return void sock.once('drain', more);
      }
      sock.destroy();
    };
    more();
  });
  await add('half_close', ['reset'], (sock) => {
    sock.write(HEAD_CHUNKED + chunk(LIST.slice(0, 5000)), () => sock.end()); // FIN, no last chunk
  });
  await add(
    'stalled_body',
    ['timeout_body', 'timeout_total'],
    (sock) => {
      sock.write(HEAD_CHUNKED + chunk(LIST.slice(0, 5000))); // then nothing, connection kept open
    },
    2,
  );
  await add('headers_never_sent', ['timeout_headers', 'timeout_total'], () => undefined, 2);
  await add('not_http', ['reset'], (sock) => {
    sock.end('SSH-2.0-OpenSSH_9.6\r\n\r\n');
  });
  await add('short_content_length', ['reset'], (sock) => {
    sock.end(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${LIST.length + 100}\r\n\r\n${LIST}`);
  });

  if (hasOpenssl) {
    const self = makeCert(dir, 'self', 'IP:127.0.0.1');
    const other = makeCert(dir, 'other', 'DNS:feeds.other.example');
    for (const [id, c, extra] of [
      ['tls_self_signed', self, ''],
      ['tls_wrong_host', other, `    ca_file: ${other.cert}\n`],
    ] as const) {
      const s = createTlsServer({ key: readFileSync(c.key), cert: readFileSync(c.cert) }, (_q, r) => r.end(LIST));
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
      servers.push(s);
      peers.push({
        id,
        url: `https://127.0.0.1:${(s.address() as AddressInfo).port}/list.txt`,
        reasons: ['tls'],
        extra,
        timeoutSecs: 60,
      });
    }
  } else {
    t.diagnostic('openssl not installed: TLS peers skipped');
  }

  // a well-behaved feed: the harness sees success too
  const good = await rawServer((sock) =>
    sock.end(
      `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nETag: "g1"\r\nContent-Length: ${LIST.length}\r\n\r\n${LIST}`,
    ),
  );
  servers.push(good.server);

  const source = (id: string, url: string, extra = '', timeoutSecs = 2) =>
    `  ${id}:\n    type: text_list\n    url: ${url}\n    allow_private: true\n    allow_insecure: true\n    interval_secs: 3600\n    timeout_secs: ${timeoutSecs}\n    retry: { max_attempts: 1 }\n${extra}`;
  const cfg = join(dir, 'stixgate.yaml');
  writeFileSync(
    cfg,
    `data_dir: ${join(dir, 'data')}\nsources:\n${peers.map((p) => source(p.id, p.url, p.extra, p.timeoutSecs)).join('')}${source('good', good.url, '', 60)}`,
  );

  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'run', '-c', cfg, '--port', '0'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, STIXGATE_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  let buf = '';
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ raw: line });
      }
    }
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    const failureOf = (id: string) => logs.find((l) => l.job === id && l.level === 'error');
    const finished = () => logs.some((l) => l.source === 'good' && l.msg === 'run finished');
    // wait until every source has run once (its failure or its summary logged)
    await untilValue(
      'every source has run once',
      () => (peers.every((p) => failureOf(p.id)) && finished()) || undefined,
      {
        ms: 240_000,
        gone: anyExited([child], () => `${stderr}\n${JSON.stringify(logs.slice(-5))}`),
      },
    );
    assert.equal(child.exitCode, null, 'the daemon is still running');
    for (const p of peers) {
      const f = must(failureOf(p.id), 'failureOf(p.id)');
      assert.ok(
        p.reasons.includes(String(f.reason)),
        `${p.id}: reason ${String(f.reason)} (expected ${p.reasons.join(' or ')}): ${String(f.msg)}`,
      );
      t.diagnostic(`${p.id}: ${String(f.reason)}`);
      assert.match(
        String(f.msg),
        new RegExp(`^${p.id}: GET https?://127\\.0\\.0\\.1:\\d+/list\\.txt: `),
        `${p.id}: the message names the source and URL`,
      );
    }
    assert.equal(
      logs.filter((l) => /unhandled|uncaught/i.test(String(l.msg))).length,
      0,
      'no unhandled rejection or exception',
    );
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    for (const s of servers) s.close();
  }

  const store = await openEmbeddedStore({ dataDir: join(dir, 'data') });
  try {
    for (const p of peers)
      assert.equal(await store.getCursor(cursorName(p.id)), undefined, `${p.id}: cursor unchanged`);
    assert.match((await store.getCursor(cursorName('good'))) ?? '', /"etag":"\\"g1\\""/);
    // only the good feed's 2,000 indicators are stored: nothing of any failed document
    assert.equal((await store.stats()).objects, 2000);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
