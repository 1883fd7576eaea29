import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { registry } from '../integrations/index.js';
import {
  configOpt,
  adhocSourceConfig,
  configuredSink,
  dataDirOpt,
  exitAfterFlush,
  fail,
  loadForCommand,
  onStopSignal,
  orFail,
} from './cli-common.js';
import { adhocSource, cliAccess, parseOptions, rejectionLine } from './cli-source.js';
import { addRemoteOptions, withStoreOrDaemon, type RemoteClient } from './cli-remote.js';
import { silentLogger } from './telemetry/logger.js';
import { MAPPINGS_DIR } from './paths.js';
import { createSourceComponent } from './pipeline/components.js';
import { runSource } from './pipeline/runner.js';
import { Allowlist } from './filter/ingest-allowlist.js';
import { runSinkComponent } from './delivery/component.js';
import { buildIndex, RemoteLookup, type LookupResult } from './lookup/index.js';
import { isCandidateSource } from './lookup/remote/source.js';
import { serializeBatch } from './server/serialize.js';
import { createProgress } from './cli-progress.js';
import type { Rejection } from './core/errors.js';
import type { IngestReport, PushAnswer } from './server/admin-types.js';
import { withCliSink } from './cli-sink.js';

/**
 * The commands that need the store: `lookup`, `stats`, `push`, `ingest`. Each opens the store,
 * or asks the running daemon that holds it (src/cli-remote.ts); both paths print the same output.
 */
export function addStoreCommands(program: Command): void {
  /** A command that reads the store or asks the daemon: the configuration, data directory and daemon options. */
  const storeCommand = (name: string, description: string, define: (c: Command) => Command = (c) => c): Command =>
    addRemoteOptions(
      define(program.command(name).description(description)).addOption(configOpt()).addOption(dataDirOpt()),
    );

  storeCommand(
    'lookup',
    'look values up in the store (or the running daemon); exit 0 when every value matched, 1 otherwise',
    (c) => c.argument('<values...>').option('--json', 'print JSON'),
  ).action(async (values: string[], opts) => {
    let allMatched = true;
    try {
      const loaded = loadForCommand(opts);
      await withStoreOrDaemon(opts, loaded, resolve(opts.dataDir ?? loaded.config.data_dir), async (t) => {
        let results: LookupResult[];
        if (t.store) {
          const indexOptions = {
            matchParentDomains: loaded.config.lookup.match_parent_domains,
            now: Date.now,
            access: cliAccess(loaded.config),
          };
          const store = t.store;
          // the OpenSearch store is asked for the values' candidates only (src/lookup/remote), never read whole
          const answers =
            loaded.config.lookup.remote.enabled && isCandidateSource(store)
              ? await new RemoteLookup(store, { ...indexOptions, cacheBytes: 0 }).lookupMany(values, Date.now(), 'red')
              : await buildIndex(store, indexOptions).then(({ index }) =>
                  values.map((v) => index.lookup(v, Date.now(), 'red')),
                );
          // the answer the HTTP API gives (src/server/serialize.ts), so both paths print the same
          results = (JSON.parse(serializeBatch(answers)) as { results: LookupResult[] }).results;
        } else {
          results = await remoteLookup(t.remote, values);
        }
        allMatched = results.every((r) => r.matched);
        if (opts.json) process.stdout.write(`${JSON.stringify({ results }, null, 2)}\n`);
        else
          for (const r of results) {
            const what = r.invalid
              ? `invalid (${r.invalid})`
              : r.matched
                ? `MATCH ${r.indicators.map((i) => `${i.id} score=${i.score} tlp=${i.tlp} via ${i.match}`).join('; ')}`
                : 'no match';
            process.stdout.write(`${r.value}\t${what}\n`);
          }
      });
    } catch (e) {
      fail(e);
    }
    await exitAfterFlush(allMatched ? 0 : 1);
  });

  storeCommand('stats', 'store statistics as JSON (from the running daemon when it holds the store)').action(
    orFail(async (opts) => {
      const loaded = loadForCommand(opts);
      await withStoreOrDaemon(opts, loaded, resolve(opts.dataDir ?? loaded.config.data_dir), async (t) => {
        const stats = t.store ? await t.store.stats() : await t.remote.call('GET', '/api/v1/admin/stats');
        process.stdout.write(`${JSON.stringify(stats, null, 2)}\n`);
      });
    }),
  );

  storeCommand(
    'push',
    'push the change log to one configured sink now (what the daemon does on its schedule; through the daemon when it runs)',
    (c) =>
      c
        .argument('<sink>', 'sink id from the configuration')
        .option('--full', 're-send every active indicator, then continue from the change-log head')
        .option('--dry-run', 'build the batches and print what would be sent; send and commit nothing'),
  ).action(
    orFail(async (sinkId: string, opts) => {
      const loaded = loadForCommand(opts);
      const raw = configuredSink(loaded, sinkId, opts);
      const dataDir = resolve(opts.dataDir ?? loaded.config.data_dir);
      await withStoreOrDaemon(opts, loaded, dataDir, async (t) => {
        let answer: Omit<PushAnswer, 'id' | 'ran'> & { summary?: Record<string, unknown> };
        if (t.store) {
          const store = t.store;
          // the daemon's publish filter (warninglists, allowlists): withheld values are never pushed from here either
          answer = await withCliSink(loaded, sinkId, raw, dataDir, async (comp, publish, signal) => {
            const { planned, ...sum } = await runSinkComponent(comp, {
              store,
              signal,
              now: Date.now,
              full: opts.full === true,
              dryRun: opts.dryRun === true,
              access: cliAccess(loaded.config),
              publish: (x, s) => publish.check(x, s),
              publishVersion: publish.fingerprint,
            });
            return {
              summary: {
                ...sum,
                ...(planned ? { planned: { upsert_batches: planned.upsert, remove_batches: planned.remove } } : {}),
              },
              samples: planned?.samples.map((r) => ({
                op: r.op,
                reason: r.reason,
                type: r.observable.type,
                value: r.observable.value,
                tlp: r.tlp,
                fields: r.fields,
              })),
            };
          });
        } else {
          const r = await t.remote.call<PushAnswer>('POST', `/api/v1/admin/sinks/${encodeURIComponent(sinkId)}/push`, {
            query: { full: opts.full === true, dry_run: opts.dryRun === true },
          });
          if (!r.ran) throw new Error(`sink ${sinkId}: another instance holds its lease; nothing was pushed from here`);
          answer = r;
        }
        for (const r of answer.samples ?? [])
          process.stderr.write(
            `would ${r.op} ${r.type} ${r.value}${r.reason ? ` (${r.reason})` : ''} ${JSON.stringify(r.fields)}\n`,
          );
        process.stdout.write(`${JSON.stringify(pushLine(sinkId, answer.summary ?? {}))}\n`);
      });
    }),
  );

  storeCommand(
    'ingest',
    'one-shot import of a file or URL into the store (a file through the running daemon when it holds the store)',
    (c) =>
      c
        .argument('<file>', 'input file path or URL')
        .requiredOption('--from <format>', 'source type id')
        .option('--source-id <id>', 'provenance id to record (default: cli_<format>)')
        .option('-o, --option <key=value...>', 'source options, as in the YAML source entry')
        .option('--quiet', 'no progress output'),
  ).action(
    orFail(async (file: string, opts) => {
      const loaded = loadForCommand(opts, adhocSource(file, opts.from, parseOptions(opts.option)));
      const sourceId = opts.sourceId ?? `cli_${opts.from}`;
      await withStoreOrDaemon(opts, loaded, resolve(opts.dataDir ?? loaded.config.data_dir), async (t) => {
        let counts: Record<string, unknown>;
        let samples: Rejection[];
        if (t.store) ({ counts, samples } = await localIngest(t.store, loaded, sourceId, opts.quiet !== true));
        else ({ counts, samples } = await remoteIngest(t.remote, file, opts.from, sourceId, opts.option ?? []));
        for (const r of samples) process.stderr.write(`${rejectionLine(r)}\n`);
        process.stdout.write(`${JSON.stringify(counts)}\n`);
      });
    }),
  );
}

/** One line of push output, keys in one order whichever path produced the summary. */
function pushLine(sink: string, s: Record<string, unknown>): Record<string, unknown> {
  const keys = ['changes', 'upserted', 'removed', 'rejected', 'retried', 'batches', 'planned', 'cursor', 'head'];
  return Object.fromEntries([['sink', sink], ...keys.filter((k) => s[k] !== undefined).map((k) => [k, s[k]])]);
}

/** Lookups through `POST /api/v1/lookup`, in batches the server accepts. */
async function remoteLookup(c: RemoteClient, values: string[]): Promise<LookupResult[]> {
  const out: LookupResult[] = [];
  for (let i = 0; i < values.length; i += 500) {
    const r = await c.call<{ results: LookupResult[] }>('POST', '/api/v1/lookup', {
      body: { values: values.slice(i, i + 500) },
    });
    out.push(...r.results);
  }
  return out;
}

async function localIngest(
  store: import('./store/contract.js').Store,
  loaded: ReturnType<typeof loadForCommand>,
  sourceId: string,
  progressOn: boolean,
) {
  const c = adhocSourceConfig(loaded);
  const comp = createSourceComponent(sourceId, c, {
    registry,
    logger: silentLogger(),
    configDir: loaded.dir,
    mappingsDir: MAPPINGS_DIR,
  });
  const ac = new AbortController();
  onStopSignal(() => ac.abort());
  const progress = createProgress(progressOn && process.stderr.isTTY === true);
  try {
    const sum = await runSource({
      id: sourceId,
      source: comp.source,
      config: comp.config,
      store,
      http: comp.http,
      logger: comp.logger,
      allowlist: new Allowlist(loaded.config.allowlist),
      allowRed: loaded.config.allow_red,
      defaultTlp: loaded.config.default_tlp,
      signal: ac.signal,
      now: Date.now,
      full: true,
      onCommit: (received, r) => progress.update(received, r),
    });
    progress.stop();
    // the cursor (the file's size, time and hash) is the store's business, not the output's
    const { samples, cursor: _cursor, ...counts } = sum;
    return { counts: counts as Record<string, unknown>, samples };
  } finally {
    await comp.http.close().catch(() => undefined);
  }
}

/** A file posted to `POST /api/v1/ingest`: the daemon runs it through the same path and answers per object. */
async function remoteIngest(c: RemoteClient, file: string, type: string, sourceId: string, options: string[]) {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(file) && !file.startsWith('file://')) {
    throw new Error(
      `${file}: the daemon holds the store, and ingest through it takes a local file; download the document first, or configure it as a source`,
    );
  }
  const doc = readFileSync(file.startsWith('file://') ? new URL(file) : resolve(file));
  const r = await c.call<IngestReport>('POST', '/api/v1/ingest', {
    query: { type, source_id: sourceId, option: options },
    body: doc,
  });
  const samples: Rejection[] = r.objects
    .filter((o) => o.status === 'rejected')
    .slice(0, 20)
    .map((o) => ({ reason: o.reason ?? 'rejected', message: o.message ?? '', location: o.location }) as Rejection);
  return { counts: r.summary, samples };
}
