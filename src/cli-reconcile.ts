import { resolve, join } from 'node:path';
import type { Command } from 'commander';
import { configOpt, configPath, dataDirOpt, loadForCommand, orFail, positiveInt } from './cli-common.js';
import { cliAccess } from './cli-source.js';
import { addRemoteOptions, withStoreOrDaemon } from './cli-remote.js';
import { reconcileSinkComponent } from './delivery/reconcile-component.js';
import { DRIFT_KINDS, type ReconcileResult } from './delivery/reconcile.js';
import type { ReconcileAnswer } from './server/admin-types.js';
import { StixgateError } from './core/errors.js';
import { withCliSink } from './cli-sink.js';

/**
 * `stixgate plan SINK` and `stixgate reconcile SINK` (docs/reconcile.md): compare what the sink's
 * product holds with the sink's view of the store; `reconcile` repairs the difference. Directly
 * on the store when this process can open it, else through the running daemon's admin API
 * (`GET …/sinks/{id}/plan`, `POST …/sinks/{id}/reconcile`); both print the same.
 */
export function addReconcileCommands(program: Command): void {
  for (const apply of [false, true]) {
    const name = apply ? 'reconcile' : 'plan';
    const what = apply
      ? "read what a sink's product holds, compare it with the sink's view of the store and repair the difference (through the daemon when it runs)"
      : "read what a sink's product holds and print how it differs from the sink's view of the store: to add, to update, to remove, foreign entries left alone; changes nothing";
    addRemoteOptions(
      program
        .command(name)
        .description(what)
        .argument('<sink>', 'sink id from the configuration')
        .option('--limit <n>', 'entries listed per kind (counts cover all; default 100)', (v) =>
          positiveInt('--limit', v),
        )
        .option('--json', 'print the result as JSON')
        .addOption(configOpt())
        .addOption(dataDirOpt()),
    ).action(
      orFail(async (sinkId: string, opts) => {
        const loaded = loadForCommand(opts);
        const raw = Object.hasOwn(loaded.config.sinks, sinkId) ? loaded.config.sinks[sinkId] : undefined;
        if (!raw)
          // a usage error (exit 2), never confused with drift (exit 1) or a failed read (exit 3)
          throw new StixgateError(
            'STIXGATE_ERR_CONFIG_INVALID',
            `no sink "${sinkId}" in ${configPath(opts)} (configured: ${Object.keys(loaded.config.sinks).join(', ') || 'none'})`,
            { reason: 'unknown_sink' },
          );
        const dataDir = resolve(opts.dataDir ?? loaded.config.data_dir);
        const limit: number = opts.limit ?? 100;
        await withStoreOrDaemon(opts, loaded, dataDir, async (t) => {
          let result: ReconcileResult;
          if (t.store) {
            const store = t.store;
            result = await withCliSink(loaded, sinkId, raw, dataDir, (comp, publish, signal) =>
              reconcileSinkComponent(comp, {
                store,
                signal,
                now: Date.now,
                access: cliAccess(loaded.config),
                publish: (x, s) => publish.check(x, s),
                apply,
                listLimit: limit,
                tmpDir: join(dataDir, 'tmp'),
              }),
            );
          } else {
            const path = `/api/v1/admin/sinks/${encodeURIComponent(sinkId)}/${name}`;
            const r = await t.remote.call<ReconcileAnswer>(apply ? 'POST' : 'GET', path, { query: { limit } });
            if (!r.ran || !r.result)
              throw new Error(`sink ${sinkId}: another instance holds its lease; nothing was reconciled from here`);
            result = r.result;
          }
          process.stdout.write(opts.json ? `${JSON.stringify(result, null, 2)}\n` : planText(result));
          // `plan` answers like diff: 1 when the product differs from the store (exit 3 stays for errors)
          if (!apply && hasDrift(result)) process.exitCode = EXIT_DRIFT;
          // `reconcile` ran but the product refused some repairs: they are in the dead-letter file, not in the product
          if (apply && (result.repaired?.rejected ?? 0) > 0) process.exitCode = EXIT_REJECTED;
        });
      }),
    );
  }
}

/** `stixgate plan` found drift (README "Exit codes", docs/reconcile.md): 0 in sync, 2 config, 3 runtime. */
export const EXIT_DRIFT = 1;

/** `stixgate reconcile` ran but the product rejected some repairs (`repaired.rejected` > 0; README "Exit codes"). */
export const EXIT_REJECTED = 4;

/** True when the plan has something to repair: missing, stale or extra entries (foreign ones are left alone). */
export function hasDrift(r: ReconcileResult): boolean {
  return r.counts.missing + r.counts.stale + r.counts.extra > 0;
}

const MARK = { missing: '+', stale: '~', extra: '-', foreign: '=' } as const;
const TITLE = {
  missing: 'to add (missing)',
  stale: 'to update (stale)',
  extra: 'to remove (extra)',
  foreign: 'foreign, left alone',
} as const;

/** The human form of a plan or reconcile. */
export function planText(r: ReconcileResult): string {
  const lines = [
    `${r.applied ? 'reconcile' : 'plan'} ${r.sink} (${r.type}): ${r.remote}`,
    `read ${r.read} entries, ${r.expected} expected, ${r.counts.in_sync} in sync`,
  ];
  for (const kind of DRIFT_KINDS) {
    const n = r.counts[kind];
    lines.push(`${TITLE[kind]}: ${n}`);
    for (const i of r.items[kind]) lines.push(`  ${MARK[kind]} ${i.label}`);
    if (r.items[kind].length < n) lines.push(`  … ${n - r.items[kind].length} more (--limit, or --json)`);
  }
  if (r.repaired)
    lines.push(
      `repaired: ${r.repaired.upserted} written, ${r.repaired.removed} removed, ${r.repaired.rejected} rejected (dead-letter file), ${r.repaired.gone} changed in the store meanwhile`,
    );
  return `${lines.join('\n')}\n`;
}
