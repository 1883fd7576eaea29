/**
 * W3 (BENCHMARKS.md): MISP feed ingest. A generated MISP feed (manifest.json + event files) with one
 * 200k-attribute "URLhaus-style" event and 1,000 small events (at scale 1), served over loopback
 * HTTP, read by the `misp_feed` source through the runner into the embedded store.
 *
 * Rows: fetch + parse + map alone (no store), the whole pipeline into the store (attributes/s,
 * peak RSS, created objects), and a re-poll with the committed cursor (manifest only).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveFeedDir } from '../test/helpers/misp-source.js';
import { openEmbeddedStore } from '../src/store/embedded/index.js';
import { cpuSeconds, peakRssMb, round, syntheticValue, type Row } from './lib.js';
import { RUN_NOW, daysBefore, isoDaysBefore } from './clock.js';
import { componentPages, runComponent } from '../test/helpers/source-harness.js';
import { source } from './ingest-kit.js';

const NOW = RUN_NOW;
const TS = Math.floor(daysBefore(31) / 1000);
const MISP_TYPE: Record<string, string> = {
  'ipv4-addr': 'ip-dst',
  'domain-name': 'domain',
  url: 'url',
  sha256: 'sha256',
};

const uuid = (kind: number, i: number) =>
  `${kind.toString(16).padStart(8, '0')}-0000-4000-8000-${(i >>> 0).toString(16).padStart(12, '0')}`;

function attribute(i: number, urlsOnly: boolean): string {
  const v = urlsOnly ? syntheticValue(i * 4 + 2) : syntheticValue(i);
  return JSON.stringify({
    uuid: uuid(2, i),
    type: MISP_TYPE[v.type],
    category: v.type === 'sha256' ? 'Payload delivery' : 'Network activity',
    value: v.value,
    to_ids: i % 10 !== 0,
    timestamp: String(TS + (i % 86400)),
    comment: urlsOnly ? 'malware_download' : '',
    distribution: '5',
    Tag: i % 50 === 0 ? [{ name: 'tlp:green' }] : [],
  });
}

function event(n: number, first: number, count: number, urlsOnly: boolean): string {
  const attrs: string[] = [];
  for (let i = first; i < first + count; i++) attrs.push(attribute(i, urlsOnly));
  return `{"Event":{"uuid":"${uuid(1, n)}","info":"bench event ${n}","date":"${isoDaysBefore(31).slice(0, 10)}","timestamp":"${TS + n}","published":true,"Orgc":{"uuid":"${uuid(3, 1)}","name":"bench"},"Tag":[{"name":"tlp:white"},{"name":"type:OSINT"}],"Galaxy":${n > 0 && n % 10 === 0 ? `[{"type":"malpedia","GalaxyCluster":[{"uuid":"${uuid(4, n % 7)}","value":"Family ${n % 7}"}]}]` : '[]'},"Attribute":[${attrs.join(',')}]}}`;
}

/** Writes the feed; returns the attribute count and bytes. */
function writeFeed(dir: string, big: number, small: number, perSmall: number): { attributes: number; bytes: number } {
  mkdirSync(dir, { recursive: true });
  const manifest: Record<string, unknown> = {};
  let bytes = 0;
  const put = (n: number, text: string) => {
    writeFileSync(join(dir, `${uuid(1, n)}.json`), text);
    bytes += Buffer.byteLength(text);
    manifest[uuid(1, n)] = { info: `bench event ${n}`, timestamp: String(TS + n), Tag: [{ name: 'tlp:white' }] };
  };
  put(0, event(0, 0, big, true));
  for (let e = 1; e <= small; e++) put(e, event(e, big + (e - 1) * perSmall, perSmall, false));
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  return { attributes: big + small * perSmall, bytes };
}

/** The MISP feed at `url` as a bench source (documents up to 2 GiB). */
function component(url: string) {
  return source('misp_feed', url, { max_feed_bytes: 2 * 1024 ** 3 });
}

export async function runW3(opts: { scale: number }): Promise<Row[]> {
  const big = Math.max(1000, Math.round(200_000 * opts.scale));
  const small = Math.max(10, Math.round(1000 * opts.scale));
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-bench-w3-'));
  const rows: Row[] = [];
  const { attributes, bytes } = writeFeed(join(dir, 'feed'), big, small, 20);
  const { base: url, server } = await serveFeedDir(join(dir, 'feed'));
  const what = `MISP feed: 1 × ${big} attr event + ${small} × 20 attr events (${round(bytes / 1048576, 1)} MiB) over HTTP`;
  try {
    // fetch + parse + map only
    const c1 = component(url);
    let t0 = performance.now();
    let mapped = 0;
    for await (const p of componentPages(c1, NOW)) mapped += p.items.length;
    let secs = (performance.now() - t0) / 1000;
    await c1.http.close();
    rows.push({
      workload: 'W3',
      what: `${what}: fetch + parse + map`,
      items: attributes,
      seconds: round(secs),
      rate: Math.round(attributes / secs),
      note: `${mapped} STIX objects`,
    });

    // the whole pipeline into the embedded store
    const store = await openEmbeddedStore({ dataDir: join(dir, 'store') });
    const c2 = component(url);
    t0 = performance.now();
    const cpu0 = cpuSeconds();
    const sum = await runComponent(c2, store, NOW);
    secs = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds() - cpu0;
    rows.push({
      workload: 'W3',
      what: `${what} → store`,
      items: attributes,
      seconds: round(secs),
      rate: Math.round(attributes / secs),
      peak_rss_mb: peakRssMb(),
      cpu_s_per_1k: round((cpu / attributes) * 1000, 4),
      target: '≥ 50k attributes/s (200k in ≤ 4 s)',
      ratio: `${round(attributes / secs / 50_000, 2)}× target`,
      note: `created ${sum.created}, unchanged ${sum.unchanged} (dedup hits), rejected ${sum.rejected}`,
    });
    // re-poll: the cursor covers every event, only the manifest is read
    t0 = performance.now();
    const again = await runComponent(c2, store, NOW);
    secs = (performance.now() - t0) / 1000;
    rows.push({
      workload: 'W3',
      what: 'MISP feed re-poll with the committed cursor',
      seconds: round(secs, 3),
      note: `pages ${again.pages}, created ${again.created}`,
    });
    await c2.http.close();
    await store.close();
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
