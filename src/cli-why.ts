import type { Command } from 'commander';
import { resolve } from 'node:path';
import { configOpt, dataDirOpt, exitAfterFlush, fail, loadForCommand } from './cli-common.js';
import { cliAccess } from './cli-source.js';
import { addRemoteOptions, withStoreOrDaemon } from './cli-remote.js';
import { deliveriesOf, type DeliveriesAnswer, type DeliveryEntry } from './delivery/why.js';
import { sinkCursorName } from './delivery/runner.js';

/**
 * `stixgate why VALUE…`: the delivery ledger's answer for each value (docs/deliveries.md), from
 * the store, or from the running daemon's `GET /api/v1/deliveries` when it holds the store (the
 * key's TLP ceiling then applies). Exit 0 when every value is present in every sink that answered.
 */
export function addWhyCommand(program: Command): void {
  addRemoteOptions(
    program
      .command('why')
      .description(
        "each sink's state for a value (present, removed, withheld, rejected, pending), since when, and why (the delivery ledger)",
      )
      .argument('<values...>')
      .option('--json', 'print JSON')
      .addOption(configOpt())
      .addOption(dataDirOpt()),
  ).action(async (values: string[], opts) => {
    let everywhere = true;
    try {
      const loaded = loadForCommand(opts);
      const sinks = Object.entries(loaded.config.sinks)
        .filter(([, c]) => c.enabled !== false)
        .map(([id]) => id);
      const answers: DeliveriesAnswer[] = [];
      await withStoreOrDaemon(opts, loaded, resolve(opts.dataDir ?? loaded.config.data_dir), async (t) => {
        for (const value of values) {
          if (t.store) {
            const store = t.store;
            answers.push(
              await deliveriesOf(store, value, 'red', {
                sinks,
                access: cliAccess(loaded.config),
                cursor: async (s) => Number((await store.getCursor(sinkCursorName(s))) ?? 0),
              }),
            );
          } else {
            answers.push(await t.remote.call<DeliveriesAnswer>('GET', '/api/v1/deliveries', { query: { value } }));
          }
        }
      });
      everywhere = answers.every(
        (a) => a.invalid === undefined && a.deliveries.length > 0 && a.deliveries.every((d) => d.state === 'present'),
      );
      if (opts.json) process.stdout.write(`${JSON.stringify({ results: answers }, null, 2)}\n`);
      else for (const a of answers) process.stdout.write(describe(a));
    } catch (e) {
      fail(e);
    }
    await exitAfterFlush(everywhere ? 0 : 1);
  });
}

/** One value's answer as text: a line per sink. */
export function describe(a: DeliveriesAnswer): string {
  if (a.invalid !== undefined) return `${a.value}\tinvalid (${a.invalid})\n`;
  if (a.deliveries.length === 0) return `${a.value}\tno sink has a record of it\n`;
  return a.deliveries.map((d) => `${a.value}\t${d.sink}\t${line(d)}\n`).join('');
}

function line(d: DeliveryEntry): string {
  if (d.state === 'pending')
    return `pending (change ${d.seq} not yet delivered${d.previous ? `; before: ${state(d.previous)}` : ''})`;
  if (d.state === 'unknown') return 'unknown (no record: sent before the ledger existed, or never considered)';
  return state(d);
}

function state(d: Omit<DeliveryEntry, 'sink' | 'type' | 'previous'>): string {
  const parts = [`${d.state}${d.reason ? ` (${d.reason})` : ''} since ${d.since} by change ${d.seq}`];
  if (d.sources.length) parts.push(`sources ${d.sources.map((s) => `${s.source}:${s.tlp}`).join(',')}`);
  if (d.score !== null || d.threshold) parts.push(`score ${d.score ?? 'hidden'}/${d.threshold ?? 0}`);
  if (d.detail) parts.push(JSON.stringify(d.detail));
  return parts.join('; ');
}
