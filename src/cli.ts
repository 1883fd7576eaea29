import { Command } from 'commander';
import {
  adhocSourceConfig,
  configOpt,
  configPath,
  configYaml,
  dataDirOpt,
  EXIT_CONFIG,
  EXIT_RUNTIME,
  fail,
  loadForCommand,
  onStopSignal,
  orFail,
  parseNamedPort,
  parsePort,
  readStdin,
  usageExitCodes,
} from './cli-common.js';
import { addDaemonCommands } from './cli-daemon.js';
import { addExportCommand } from './cli-export.js';
import { probeComponents } from './cli-probe.js';
import { addStoreCommands } from './cli-store.js';
import { addWhyCommand } from './cli-why.js';
import { addReconcileCommands } from './cli-reconcile.js';
import { adhocSource, parseOptions, rejectionLine } from './cli-source.js';
import { chmodSync, writeFileSync } from 'node:fs';
import { stringify as stringifyYaml } from 'yaml';
import { createLogger, silentLogger } from './telemetry/logger.js';
import { registry } from '../integrations/index.js';
import { simulators } from '../integrations/simulators.js';
import { Daemon } from './daemon.js';
import { ConfigError, loadConfig, redactConfig, type LoadedConfig } from './config/load.js';
import { componentIssues } from './config/components-check.js';
import { isStixgateError, errorMessage } from './core/errors.js';
import { MAPPINGS_DIR, VERSION } from './paths.js';
import { createSourceComponent } from './pipeline/components.js';
import { hashApiKey } from './server/schema.js';
import { deterministicId } from './core/ids.js';
import { SpooledOutput } from './cli-output.js';
import { describeConfigReference } from './config/reference.js';
import { describeMetricsReference } from './telemetry/reference.js';

function parseNow(v: string): number {
  const t = Date.parse(v);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(v) || Number.isNaN(t))
    throw new Error(`--now expects an RFC 3339 time such as 2026-01-01T00:00:00Z, got "${v}"`);
  return t;
}

/** Time allowed past the shutdown grace for closing the server, indexes and store. */
const STOP_SAFETY_MS = 1500;

const program = new Command();
usageExitCodes(program).name('stixgate').description('Threat-intelligence integration gateway').version(VERSION);

program
  .command('run')
  .description('run the daemon')
  .addOption(configOpt())
  .addOption(dataDirOpt())
  .option('--port <port>', 'listen on this port instead of server.port (0: any free port)', parsePort)
  .action(async (opts) => {
    const logger = createLogger();
    const daemon = new Daemon({
      configPath: configPath(opts),
      dataDir: opts.dataDir,
      port: opts.port,
      registry,
      logger,
    });
    let stopping = false;
    const shutdown = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down');
      // a safety net past the grace: a close that hangs (a socket, a disk) must not wait for SIGKILL
      setTimeout(() => {
        logger.error({ signal }, 'shutdown did not finish within its grace; exiting');
        process.exit(EXIT_RUNTIME);
      }, daemon.shutdownGraceMs + STOP_SAFETY_MS).unref();
      daemon.stop().then(
        () => process.exit(0),
        (e) => {
          logger.error(e, 'shutdown failed');
          process.exit(EXIT_RUNTIME);
        },
      );
    };
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGINT', () => shutdown('SIGINT'));
    process.on('SIGHUP', () => void daemon.reload());
    process.on('unhandledRejection', (e) => logger.error({ err: e }, 'unhandled rejection (kept running)'));
    try {
      await daemon.start();
    } catch (e) {
      logger.fatal({ code: isStixgateError(e) ? e.code : undefined }, errorMessage(e));
      await daemon.stop().catch(() => undefined);
      process.exit(isStixgateError(e) && e.code.startsWith('STIXGATE_ERR_CONFIG') ? EXIT_CONFIG : EXIT_RUNTIME);
    }
  });

program
  .command('validate')
  .description('check a configuration file; --probe also reaches every source, sink and enabled enricher')
  .addOption(configOpt())
  .option('--probe', 'contact each configured source, sink and enricher (without changing them)')
  .option('--show', 'print the validated configuration with secrets redacted')
  .action(async (opts) => {
    let loaded: LoadedConfig;
    try {
      loaded = loadConfig(configPath(opts), registry);
      // mapping files and other references are checked by building each component, as the daemon does
      const issues = await componentIssues(loaded, registry, MAPPINGS_DIR);
      if (issues.length) throw new ConfigError(loaded.path, issues);
    } catch (e) {
      fail(e);
    }
    for (const w of loaded.warnings) process.stderr.write(`warning: ${w}\n`);
    if (opts.show) process.stdout.write(`${JSON.stringify(redactConfig(loaded), null, 2)}\n`);
    const sources = Object.entries(loaded.config.sources);
    const sinks = Object.entries(loaded.config.sinks);
    process.stdout.write(`${loaded.path}: valid (${sources.length} source(s), ${sinks.length} sink(s))\n`);
    for (const o of loaded.overrides) process.stdout.write(`  ${o.path}: set by ${o.variable}\n`);
    if (!opts.probe) return;
    const failed = await probeComponents(loaded, registry, MAPPINGS_DIR, (line) => process.stdout.write(`${line}\n`));
    if (failed) process.exit(1);
  });

program
  .command('convert')
  .description('print the STIX 2.1 bundle a file maps to (no daemon, no store)')
  .argument('<file>', 'input file path or URL')
  .requiredOption('--from <format>', 'source type id, e.g. text_list, csv, stix_bundle, cisa_kev')
  .option('-o, --option <key=value...>', 'source options, as in the YAML source entry (e.g. mapping=feodotracker)')
  .option(
    '--now <time>',
    'the clock for records without their own timestamps (RFC 3339), for reproducible output',
    parseNow,
  )
  .option(
    '--explain',
    'print how the document was read to stderr (csv without a column map: the columns it detected and why)',
  )
  .addOption(configOpt())
  .action(async (file: string, opts) => {
    let spool: SpooledOutput | undefined;
    try {
      const loaded = loadForCommand(opts, adhocSource(file, opts.from, parseOptions(opts.option)));
      const c = adhocSourceConfig(loaded);
      const comp = createSourceComponent('cli', c, {
        registry,
        logger: silentLogger(),
        configDir: loaded.dir,
        mappingsDir: MAPPINGS_DIR,
      });
      // nothing reaches stdout unless the whole bundle was written (a failure prints only the error)
      const out = new SpooledOutput();
      spool = out;
      const id = deterministicId('bundle', `${opts.from}:${file}`);
      out.write(`{"type":"bundle","id":"${id}","objects":[`);
      let first = true;
      let rejected = 0;
      const ac = new AbortController();
      for await (const page of comp.source.pages({
        id: 'cli',
        logger: comp.logger,
        http: comp.http,
        signal: ac.signal,
        now: opts.now ?? Date.now(),
      })) {
        for (const it of page.items) {
          out.write(`${first ? '\n' : ',\n'}${JSON.stringify(it.object)}`);
          first = false;
        }
        for (const w of page.warnings ?? []) process.stderr.write(`warning: ${w}\n`);
        if (opts.explain) for (const line of page.explain ?? []) process.stderr.write(`${line}\n`);
        for (const r of page.rejections) {
          rejected++;
          if (rejected <= 50) process.stderr.write(`${rejectionLine(r)}\n`);
        }
      }
      out.write('\n]}\n');
      await out.commit();
      if (rejected) process.stderr.write(`${rejected} record(s) rejected\n`);
    } catch (e) {
      spool?.discard();
      fail(e);
    }
  });

program
  .command('simulate')
  .description(
    'start the Splunk, QRadar and Cortex XSOAR simulators on 127.0.0.1 and print the sink configuration that uses them',
  )
  .option('--only <names...>', 'start only these simulators')
  .option(
    '--write-config <file>',
    "write a complete configuration (the default one plus these sinks) to this file (mode 0600: it holds the simulators' credentials)",
  )
  .option(
    '--port <name=port...>',
    'listen on this port for that simulator (e.g. splunk=8089); default a free port',
    (v: string, prev: Record<string, number>) => parseNamedPort(v, prev),
  )
  .addOption(configOpt())
  .action(
    orFail(async (opts) => {
      const known = `known: ${simulators.map((s) => s.name).join(', ')}`;
      const chosen = simulators.filter((s) => !opts.only || opts.only.includes(s.name));
      if (chosen.length === 0) throw new Error(`no simulator named ${opts.only.join(', ')} (${known})`);
      const ports: Record<string, number> = opts.port ?? {};
      for (const name of Object.keys(ports))
        if (!chosen.some((s) => s.name === name))
          throw new Error(`--port ${name}=…: no simulator named ${name} is started (${known})`);
      const running = [];
      for (const s of chosen) running.push(await s.start(ports[s.name] ?? 0));
      const sinks = Object.assign({}, ...running.map((r) => r.sinks));
      const block = stringifyYaml({ sinks }, { aliasDuplicateObjects: false });
      for (const r of running) for (const n of r.notes) process.stderr.write(`${n}\n`);
      if (opts.writeConfig) {
        writeFileSync(
          opts.writeConfig,
          stringifyYaml({ ...configYaml(configPath(opts)), sinks }, { aliasDuplicateObjects: false }),
          { mode: 0o600 },
        );
        chmodSync(opts.writeConfig, 0o600); // an existing file keeps its mode on write
        process.stderr.write(
          `configuration written to ${opts.writeConfig}; run: npx stixgate run --config ${opts.writeConfig}\n`,
        );
      }
      process.stdout.write(block);
      process.stderr.write('simulators running; Ctrl-C to stop\n');
      await new Promise<void>((res) => onStopSignal(res));
      for (const r of running) await r.close();
    }),
  );

addStoreCommands(program);
addWhyCommand(program);
addReconcileCommands(program);

program
  .command('hash-key')
  .description(
    'print the hash of an API key for server.api_keys.<id>.hash; the key is read from stdin (echo -n "$KEY" | stixgate hash-key)',
  )
  .argument('[key]', 'the key on the command line (visible in the process list and shell history: prefer stdin)')
  .action(async (arg: string | undefined) => {
    if (arg !== undefined)
      process.stderr.write(
        'warning: a key on the command line is visible to other users and kept in shell history; pipe it on stdin instead\n',
      );
    const key = arg ?? (await readStdin()).replace(/\r?\n$/, '');
    if (!key) {
      process.stderr.write('error: no key on stdin\n');
      process.exit(EXIT_CONFIG);
    }
    process.stdout.write(`${hashApiKey(key)}\n`);
  });

program
  .command('types')
  .description('list the integration types')
  .action(() => {
    for (const d of registry) process.stdout.write(`${d.type}\t${d.kind}\t${d.summary}\n`);
  });

program
  .command('config-reference')
  .description('print the configuration reference (Markdown)')
  .action(() => {
    process.stdout.write(describeConfigReference(registry));
  });

program
  .command('metrics-reference')
  .description('print the metrics reference (Markdown, docs/metrics.md)')
  .action(() => {
    process.stdout.write(describeMetricsReference());
  });

addDaemonCommands(program);
addExportCommand(program);

await program.parseAsync(process.argv);
