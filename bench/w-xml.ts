/**
 * XML ingest workload: a generated STIX 1.2 package (~50 MiB at scale 1: indicators with address,
 * domain, URL, file-hash, e-mail and network-connection observables, AND/OR compositions, TTPs
 * and package observables) read through the `stix1` source from a file.
 *
 * Rows: the hardened parse alone (src/core/safe-xml.ts, tree built), then parse + map to STIX 2.1.
 * Throughput in MiB/s and indicators/s; peak RSS sampled every 20 ms during each stage.
 */
import { createWriteStream, mkdtempSync, rmSync, statSync, createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { parseXmlStream } from '../src/core/safe-xml.js';
import { MAPPINGS_DIR } from '../src/paths.js';
import { silentLogger } from '../src/telemetry/logger.js';
import type { CommonSourceConfig } from '../src/pipeline/types.js';
import type { HttpClient } from '../src/http/types.js';
import { createStix1Source } from '../integrations/stix1/source.js';
import type { Stix1Config } from '../integrations/stix1/schema.js';
import { syntheticValue, cpuSeconds, round, type Row } from './lib.js';
import { RUN_NOW, isoDaysBefore } from './clock.js';

const STAMP = isoDaysBefore(60).replace('.000Z', 'Z');

const BYTES_PER_SCALE = 50 * 1024 * 1024;

const HEAD = `<?xml version="1.0" encoding="UTF-8"?>
<stix:STIX_Package xmlns:stix="http://stix.mitre.org/stix-1" xmlns:stixCommon="http://stix.mitre.org/common-1" xmlns:indicator="http://stix.mitre.org/Indicator-2"
 xmlns:ttp="http://stix.mitre.org/TTP-1" xmlns:cybox="http://cybox.mitre.org/cybox-2" xmlns:cyboxCommon="http://cybox.mitre.org/common-2"
 xmlns:AddressObj="http://cybox.mitre.org/objects#AddressObject-2" xmlns:DomainNameObj="http://cybox.mitre.org/objects#DomainNameObject-1"
 xmlns:URIObj="http://cybox.mitre.org/objects#URIObject-2" xmlns:FileObj="http://cybox.mitre.org/objects#FileObject-2"
 xmlns:EmailMessageObj="http://cybox.mitre.org/objects#EmailMessageObject-2" xmlns:NetworkConnectionObj="http://cybox.mitre.org/objects#NetworkConnectionObject-2"
 xmlns:SocketAddressObj="http://cybox.mitre.org/objects#SocketAddressObject-1" xmlns:PortObj="http://cybox.mitre.org/objects#PortObject-2"
 xmlns:stixVocabs="http://stix.mitre.org/default_vocabularies-1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:bench="http://bench.example/"
 id="bench:Package-00000000-0000-4000-8000-000000000000" version="1.2" timestamp="${STAMP}">
 <stix:STIX_Header><stix:Title>stixgate XML bench</stix:Title></stix:STIX_Header>
`;

function uuid(kind: number, i: number): string {
  const h = (i >>> 0).toString(16).padStart(12, '0');
  return `${kind.toString(16).padStart(8, '0')}-0000-4000-8000-${h}`;
}

function object(i: number): string {
  const v = syntheticValue(i);
  switch (i % 6) {
    case 0:
      return `<cybox:Properties xsi:type="AddressObj:AddressObjectType" category="ipv4-addr"><AddressObj:Address_Value condition="Equals">${syntheticValue(i * 4).value}</AddressObj:Address_Value></cybox:Properties>`;
    case 1:
      return `<cybox:Properties xsi:type="DomainNameObj:DomainNameObjectType" type="FQDN"><DomainNameObj:Value condition="Equals">${syntheticValue(i * 4 + 1).value}</DomainNameObj:Value></cybox:Properties>`;
    case 2:
      return `<cybox:Properties xsi:type="URIObj:URIObjectType" type="URL"><URIObj:Value condition="Equals">${syntheticValue(i * 4 + 2).value.replace(/&/g, '&amp;')}</URIObj:Value></cybox:Properties>`;
    case 3: {
      const sha = syntheticValue(i * 4 + 3).value;
      return `<cybox:Properties xsi:type="FileObj:FileObjectType"><FileObj:File_Name>sample-${i}.exe</FileObj:File_Name><FileObj:Size_In_Bytes>${1000 + i}</FileObj:Size_In_Bytes><FileObj:Hashes><cyboxCommon:Hash><cyboxCommon:Type xsi:type="cyboxVocabs:HashNameVocab-1.0">MD5</cyboxCommon:Type><cyboxCommon:Simple_Hash_Value condition="Equals">${sha.slice(0, 32)}</cyboxCommon:Simple_Hash_Value></cyboxCommon:Hash><cyboxCommon:Hash><cyboxCommon:Type xsi:type="cyboxVocabs:HashNameVocab-1.0">SHA256</cyboxCommon:Type><cyboxCommon:Simple_Hash_Value condition="Equals">${sha}</cyboxCommon:Simple_Hash_Value></cyboxCommon:Hash></FileObj:Hashes></cybox:Properties>`;
    }
    case 4:
      return `<cybox:Properties xsi:type="EmailMessageObj:EmailMessageObjectType"><EmailMessageObj:Header><EmailMessageObj:From category="e-mail"><AddressObj:Address_Value condition="Equals">phish${i}@${syntheticValue(i * 4 + 1).value}</AddressObj:Address_Value></EmailMessageObj:From><EmailMessageObj:Subject condition="Contains">Invoice ${i}</EmailMessageObj:Subject></EmailMessageObj:Header></cybox:Properties>`;
    default:
      return `<cybox:Properties xsi:type="NetworkConnectionObj:NetworkConnectionObjectType"><NetworkConnectionObj:Layer4_Protocol condition="Equals">TCP</NetworkConnectionObj:Layer4_Protocol><NetworkConnectionObj:Destination_Socket_Address><SocketAddressObj:IP_Address category="ipv4-addr"><AddressObj:Address_Value condition="Equals">${v.type === 'ipv4-addr' ? v.value : syntheticValue(i * 4).value}</AddressObj:Address_Value></SocketAddressObj:IP_Address><SocketAddressObj:Port><PortObj:Port_Value condition="Equals">${1024 + (i % 50000)}</PortObj:Port_Value></SocketAddressObj:Port></NetworkConnectionObj:Destination_Socket_Address></cybox:Properties>`;
  }
}

function indicator(i: number, ttps: number): string {
  const id = `bench:indicator-${uuid(1, i)}`;
  const obs =
    i % 5 === 0
      ? `<indicator:Observable id="bench:Observable-${uuid(2, i)}"><cybox:Observable_Composition operator="${i % 10 === 0 ? 'OR' : 'AND'}"><cybox:Observable><cybox:Object>${object(i)}</cybox:Object></cybox:Observable><cybox:Observable><cybox:Object>${object(i + 1)}</cybox:Object></cybox:Observable></cybox:Observable_Composition></indicator:Observable>`
      : `<indicator:Observable id="bench:Observable-${uuid(2, i)}"><cybox:Object id="bench:Object-${uuid(3, i)}">${object(i)}</cybox:Object></indicator:Observable>`;
  return `<stix:Indicator xsi:type="indicator:IndicatorType" id="${id}" timestamp="${STAMP}"><indicator:Title>Bench indicator ${i}</indicator:Title><indicator:Type xsi:type="stixVocabs:IndicatorTypeVocab-1.1">${['IP Watchlist', 'Domain Watchlist', 'URL Watchlist', 'File Hash Watchlist', 'Malicious E-mail', 'C2'][i % 6]}</indicator:Type><indicator:Description>Generated indicator number ${i} for the XML ingest benchmark.</indicator:Description>${obs}<indicator:Indicated_TTP><stixCommon:TTP idref="bench:ttp-${uuid(4, i % ttps)}"/></indicator:Indicated_TTP><indicator:Confidence><stixCommon:Value>${['High', 'Medium', 'Low'][i % 3]}</stixCommon:Value></indicator:Confidence></stix:Indicator>\n`;
}

/** Writes the package; returns its size and indicator count. */
export async function writeStix1Package(
  file: string,
  targetBytes: number,
): Promise<{ bytes: number; indicators: number; observables: number }> {
  const out = createWriteStream(file);
  const write = async (s: string): Promise<number> => {
    if (!out.write(s)) await once(out, 'drain');
    return Buffer.byteLength(s);
  };
  let bytes = await write(HEAD);
  const ttps = 200;
  const observables = Math.max(10, Math.round(targetBytes / 10_000));
  bytes += await write(' <stix:Observables cybox_major_version="2" cybox_minor_version="1">\n');
  for (let i = 0; i < observables; i++)
    bytes += await write(
      `<cybox:Observable id="bench:Observable-${uuid(5, i)}"><cybox:Object>${object(i * 7 + 3)}</cybox:Object></cybox:Observable>\n`,
    );
  bytes += await write(' </stix:Observables>\n <stix:Indicators>\n');
  let n = 0;
  const tail = ttps * 400 + 100;
  while (bytes < targetBytes - tail) bytes += await write(indicator(n++, ttps));
  bytes += await write(' </stix:Indicators>\n <stix:TTPs>\n');
  for (let i = 0; i < ttps; i++) {
    bytes += await write(
      `<stix:TTP xsi:type="ttp:TTPType" id="bench:ttp-${uuid(4, i)}" timestamp="${STAMP}"><ttp:Title>Family ${i}</ttp:Title><ttp:Behavior><ttp:Malware><ttp:Malware_Instance><ttp:Name>Family ${i}</ttp:Name></ttp:Malware_Instance></ttp:Malware></ttp:Behavior></stix:TTP>\n`,
    );
  }
  bytes += await write(' </stix:TTPs>\n</stix:STIX_Package>\n');
  out.end();
  await once(out, 'finish');
  return { bytes, indicators: n, observables };
}

/** Runs `fn` while sampling RSS; returns its result, seconds, CPU seconds and peak RSS (MiB). */
async function measured<T>(fn: () => Promise<T>): Promise<{ value: T; secs: number; cpu: number; peakMb: number }> {
  global.gc?.();
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  const c0 = cpuSeconds();
  const t0 = performance.now();
  try {
    const value = await fn();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { value, secs: (performance.now() - t0) / 1000, cpu: cpuSeconds() - c0, peakMb: Math.round(peak / 2 ** 20) };
  } finally {
    clearInterval(timer);
  }
}

const NO_HTTP: HttpClient = {
  request: () => Promise.reject(new Error('the XML bench reads a file')),
};

export async function runXmlBench(opts: { scale: number }): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-wxml-'));
  const file = join(dir, 'package.xml');
  try {
    const gen = await writeStix1Package(file, Math.max(256 * 1024, Math.round(BYTES_PER_SCALE * opts.scale)));
    const mib = statSync(file).size / 2 ** 20;
    const rows: Row[] = [];

    const parse = await measured(
      async () =>
        (
          await parseXmlStream(createReadStream(file, { highWaterMark: 1 << 16 }) as AsyncIterable<Buffer>, {
            name: 'bench',
            maxBytes: 1 << 30,
          })
        ).stats,
    );
    rows.push({
      workload: 'WXML',
      what: `safe-xml parse (tree) ${round(mib, 1)} MiB STIX 1.2`,
      items: parse.value.elements,
      seconds: round(parse.secs),
      rate: Math.round(parse.value.elements / parse.secs),
      peak_rss_mb: parse.peakMb,
      cpu_s_per_1k: round((parse.cpu / parse.value.elements) * 1000, 4),
      note: `${round(mib / parse.secs, 1)} MiB/s; items = XML elements; sax events-only ceiling on this box 35.5 MiB/s (BENCHMARKS.md)`,
    });

    const config = {
      type: 'stix1',
      url: file,
      enabled: true,
      tlp: 'amber',
      labels: [],
      timeout_secs: 60,
      max_feed_bytes: 1 << 30,
      allow_private: false,
      allow_insecure: false,
      verify_tls: true,
      max_bad_ratio: 0.5,
      retry: { max_attempts: 1, base_delay_secs: 1, max_delay_secs: 1 },
      xml_max_depth: 256,
      xml_max_attributes: 256,
      xml_max_text_chars: 1 << 20,
      xml_max_elements: 100_000_000,
    } as unknown as Stix1Config & CommonSourceConfig;
    const src = createStix1Source(config, { logger: silentLogger(), configDir: dir, mappingsDir: MAPPINGS_DIR });
    const run = await measured(async () => {
      const counts = { objects: 0, indicators: 0, rejected: 0, pages: 0 };
      for await (const page of src.pages({
        id: 'bench',
        logger: silentLogger(),
        http: NO_HTTP,
        signal: new AbortController().signal,
        now: RUN_NOW,
      })) {
        counts.pages++;
        counts.rejected += page.rejections.length;
        for (const it of page.items) {
          counts.objects++;
          if (it.object.type === 'indicator') counts.indicators++;
        }
      }
      return counts;
    });
    rows.push({
      workload: 'WXML',
      what: `STIX 1.2 ${round(mib, 1)} MiB file → STIX 2.1 (parse + map)`,
      items: run.value.indicators,
      seconds: round(run.secs),
      rate: Math.round(run.value.indicators / run.secs),
      peak_rss_mb: run.peakMb,
      cpu_s_per_1k: round((run.cpu / Math.max(1, run.value.indicators)) * 1000, 4),
      note: `${round(mib / run.secs, 1)} MiB/s; ${run.value.objects} objects (${gen.indicators} indicators, ${gen.observables} observables generated), ${run.value.rejected} rejected, ${run.value.pages} pages`,
    });
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
