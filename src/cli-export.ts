import { Option, type Command } from 'commander';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { configOpt, dataDirOpt, EXIT_CONFIG, exitAfterFlush, fail, loadForCommand } from './cli-common.js';
import { addRemoteOptions, withStoreOrDaemon, type RemoteClient, type RemoteOptions } from './cli-remote.js';
import { SpooledOutput } from './cli-output.js';
import { accessPolicy } from './access/policy.js';
import { TLP_LEVELS, type StixObject, type TlpLevel } from './core/stix.js';
import { compileScoring } from './score/model.js';
import { writeBundle } from './search/bundle.js';
import { parseFilter, type RawFilter, type SearchFilter } from './search/filter.js';
import { searchAll } from './search/pages.js';

/** The filters, as flags named like the search API's parameters (docs/api.md). */
const FILTER_FLAGS: [flag: string, key: keyof RawFilter, help: string][] = [
  ['--type <types>', 'type', 'STIX types, comma-separated'],
  ['--value <value>', 'value', 'objects standing for this observable value'],
  ['--cidr <cidr>', 'cidr', 'objects standing for an address or range inside this CIDR'],
  ['--source <id>', 'source', 'a source among the visible contributions'],
  ['--label <label>', 'label', 'a label of the view'],
  ['--min-score <n>', 'min_score', 'lowest score'],
  ['--max-score <n>', 'max_score', 'highest score'],
  ['--tlp <levels>', 'tlp', 'TLPs of the view, comma-separated'],
  ['--modified-since <time>', 'modified_since', 'RFC 3339'],
  ['--state <states>', 'state', 'active (default), expired, revoked, comma-separated'],
];

const camel = (k: string) => k.replace(/_(.)/g, (_m, c: string) => c.toUpperCase());

/** Writes to `path` through a temporary file beside it, renamed over it only when complete. */
class AtomicFile {
  private readonly tmp: string;
  private fd: number | undefined;
  constructor(private readonly path: string) {
    this.tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
    this.fd = openSync(this.tmp, 'wx', 0o600);
  }
  /** The open descriptor; a write or commit after the commit is a programming error. */
  private open(): number {
    if (this.fd === undefined) throw new Error(`${this.tmp} is already committed`);
    return this.fd;
  }
  write(text: string): void {
    writeSync(this.open(), text);
  }
  commit(): void {
    const fd = this.open();
    fsyncSync(fd);
    closeSync(fd);
    this.fd = undefined;
    renameSync(this.tmp, this.path);
  }
  discard(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    rmSync(this.tmp, { force: true });
  }
}

/** The objects of a running daemon's search API, page by page (the store is locked by it). */
async function* remoteObjects(client: RemoteClient, raw: RawFilter): AsyncGenerator<StixObject> {
  let cursor: string | undefined;
  do {
    const body = await client.call<{ objects: StixObject[]; next?: string }>('GET', '/api/v1/objects', {
      query: { ...raw, limit: 1000, cursor },
    });
    yield* body.objects;
    cursor = body.next;
  } while (cursor);
}

/**
 * `stixgate export`: a STIX 2.1 bundle of the store's objects as a reader with `--max-tlp` sees
 * them, with the search API's filters. Streamed: one store page in memory at a time. Nothing
 * reaches stdout, nor `--output`, unless the whole bundle was written. When a running daemon
 * holds the store, the objects come from its search API (`search` scope; key from
 * `$STIXGATE_API_KEY`).
 */
export function addExportCommand(program: Command): void {
  const cmd = program
    .command('export')
    .description('write a STIX 2.1 bundle of the stored objects (filters as the search API; docs/api.md)')
    .addOption(configOpt())
    .addOption(dataDirOpt())
    .addOption(
      new Option('--max-tlp <level>', 'the most restrictive TLP exported (what a reader at this ceiling sees)')
        .choices([...TLP_LEVELS])
        .default('green'),
    )
    .option(
      '-o, --output <file>',
      'write the bundle to this file (atomically: a temporary file renamed when complete); default stdout',
    );
  addRemoteOptions(cmd);
  for (const [flag, , help] of FILTER_FLAGS) cmd.option(flag, help);
  cmd.action(async (opts: Record<string, string | undefined>) => {
    const raw: RawFilter = {};
    for (const [, key] of FILTER_FLAGS) {
      const v = opts[camel(key)];
      if (v !== undefined) (raw as Record<string, string>)[key] = v;
    }
    const parsed = parseFilter(raw);
    if (!parsed.ok) {
      process.stderr.write(`stixgate: --${parsed.field.replace(/_/g, '-')}: ${parsed.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    const out = opts.output ? new AtomicFile(resolve(opts.output)) : new SpooledOutput();
    try {
      const n = await exportTo(out, parsed.filter, raw, opts);
      if (out instanceof AtomicFile) out.commit();
      else await out.commit();
      process.stderr.write(`exported ${n} objects\n`);
    } catch (e) {
      out.discard();
      fail(e);
    }
    await exitAfterFlush(0);
  });
}

async function exportTo(
  out: { write(text: string): void },
  filter: SearchFilter,
  raw: RawFilter,
  opts: Record<string, string | undefined>,
): Promise<number> {
  const loaded = loadForCommand(opts);
  const dataDir = resolve(opts.dataDir ?? loaded.config.data_dir);
  const ceiling = opts.maxTlp as TlpLevel;
  return withStoreOrDaemon(opts as RemoteOptions, loaded, dataDir, async (t) => {
    // through a running daemon, its key decides the ceiling (its max_tlp, not --max-tlp)
    if (t.remote) return writeBundle(remoteObjects(t.remote, raw), (x) => out.write(x));
    const policy = accessPolicy({
      defaultTlp: loaded.config.default_tlp,
      scoring: compileScoring(loaded.config.scoring),
    });
    return writeBundle(searchAll(t.store, filter, { ceiling, policy }), (x) => out.write(x));
  });
}
