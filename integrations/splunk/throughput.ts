/**
 * Push throughput of the Splunk sinks against the simulator (a measurement, not a test):
 *
 *   node --import tsx integrations/splunk/throughput.ts [values]
 *
 * KV: batch_save of 1,000 documents, 4 requests in flight, with no added latency and with 50 ms
 * per request (ceiling 4 × 1,000 / 50 ms = 80,000 docs/s; `npm run bench` measures it). HEC: 5,000 events
 * per request, 4 in flight, without and with indexer acknowledgement. The simulator runs in a child
 * process, so that it does not share the sink's event loop.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Sink, SinkRecord } from '../../src/delivery/types.js';
import { splunkHecSink, splunkKvSink } from './index.js';
import {
  commonConfig,
  HEC_ACK_TOKEN,
  HEC_TOKEN,
  ictx,
  ips,
  JWT,
  kvConfig,
  records,
  runContext,
  startSim,
} from './sink-test-kit.js';

const cleanups: (() => Promise<void> | void)[] = [];
const t = { after: (fn: () => Promise<void> | void) => void cleanups.push(fn) };

/** A simulator in a child process; resolves with its base URL and a stop function. */
async function serve(
  delayMs = 0,
  times = 0,
): Promise<{
  base: string;
  state: () => Promise<{ collections: { name: string; documents: number }[]; events: number }>;
}> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), 'serve', String(delayMs), String(times)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  t.after(() => void child.stdin.end());
  const base = await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve));
  return { base, state: async () => (await fetch(`${base}/__sim/state`)).json() as never };
}

async function push(sink: Sink, recs: SinkRecord[], batch: number, concurrency: number): Promise<number> {
  const ctx = runContext(t, { totalTimeoutMs: 60_000 });
  await sink.prepare?.(ctx);
  const batches: SinkRecord[][] = [];
  for (let i = 0; i < recs.length; i += batch) batches.push(recs.slice(i, i + batch));
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let b = batches[next++]; b !== undefined; b = batches[next++]) {
        const out = await sink.upsert(b, ctx);
        if (out.some((o) => o.status !== 'ok'))
          throw new Error(`not delivered: ${JSON.stringify(out.find((o) => o.status !== 'ok'))}`);
      }
    }),
  );
  return recs.length / ((performance.now() - started) / 1000);
}

const fmt = (n: number) => `${Math.round(n).toLocaleString('en-US')}/s`;

async function main(): Promise<void> {
  const N = Number(process.argv[2] ?? 100_000);
  try {
    const kvRecs = records('splunk_kv', ips(N));
    const hecRecs = records('splunk_hec', ips(N));
    for (const delayMs of [0, 50]) {
      const { base, state } = await serve(delayMs, Math.ceil(N / 1000));
      const sink = splunkKvSink.create(kvConfig(base), ictx);
      const rate = await push(sink, kvRecs, 1000, 4);
      if ((await state()).collections.find((c) => c.name === 'ti')?.documents !== N)
        throw new Error('KV: documents missing');
      // the same documents, serialised beforehand, posted with fetch: the ceiling of this machine now
      const raw = await serve(delayMs, Math.ceil(N / 1000) + 1);
      await fetch(`${raw.base}/servicesNS/nobody/stixgate/storage/collections/config?output_mode=json`, {
        method: 'POST',
        headers: { authorization: `Bearer ${JWT}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'name=ti',
      });
      const bodies: string[] = [];
      for (let i = 0; i < N; i += 1000)
        bodies.push(
          `[${kvRecs
            .slice(i, i + 1000)
            .map((r) => JSON.stringify({ ...r.fields, _key: r.key }))
            .join(',')}]`,
        );
      let next = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          while (next < bodies.length)
            await (
              await fetch(`${raw.base}/servicesNS/nobody/stixgate/storage/collections/data/ti/batch_save`, {
                method: 'POST',
                headers: { authorization: `Bearer ${JWT}`, 'content-type': 'application/json' },
                body: bodies[next++],
              })
            ).text();
        }),
      );
      const ceiling = N / ((performance.now() - started) / 1000);
      console.log(
        `splunk_kv  ${N} docs, 1000/batch, 4 in flight, +${delayMs} ms/request: ${fmt(rate)} docs (pre-serialised bodies with fetch: ${fmt(ceiling)}; sink at ${Math.round((100 * rate) / ceiling)}%)`,
      );
    }
    for (const ack of [false, true]) {
      const { base, state } = await serve();
      const sink = splunkHecSink.create(
        {
          ...commonConfig('splunk_hec'),
          url: base,
          token: ack ? HEC_ACK_TOKEN : HEC_TOKEN,
          sourcetype: 'stixgate:indicator',
          source: 'stixgate',
          use_ack: ack,
          ack_timeout_secs: 30,
          ack_poll_interval_ms: 20,
          max_events_per_request: 5000,
          max_request_bytes: 100 << 20,
          max_event_bytes: 5 << 20,
        },
        ictx,
      );
      const rate = await push(sink, hecRecs, 5000, 4);
      if ((await state()).events !== N) throw new Error('HEC: events missing');
      console.log(
        `splunk_hec ${N} events, 5000/request, 4 in flight, ack ${ack ? 'on (poll 20 ms)' : 'off'}: ${fmt(rate)} events`,
      );
    }
  } finally {
    for (const c of cleanups.reverse()) await c();
  }
}

async function child(): Promise<void> {
  // a simulator with `delayMs` on the first `times` KV requests; prints its base URL, stops when stdin ends
  const { sim, base } = await startSim(t);
  const [delayMs, times] = [Number(process.argv[3]), Number(process.argv[4])];
  if (delayMs > 0) sim.inject({ target: 'kv', delayMs, times });
  console.log(base);
  process.stdin.resume();
  process.stdin.on('end', () => void sim.close());
}

await (process.argv[2] === 'serve' ? child() : main());
