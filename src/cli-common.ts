import { InvalidArgumentError, Option, type Command, type CommanderError } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { registry } from '../integrations/index.js';
import { loadConfig, parseConfig, type LoadedConfig } from './config/load.js';
import { isStixgateError } from './core/errors.js';
import { DEFAULT_CONFIG } from './paths.js';

/** Exit codes (README "Exit codes"): 1 a negative answer, 2 configuration or usage, 3 runtime. */
export const EXIT_CONFIG = 2;
export const EXIT_RUNTIME = 3;

export function configPath(opts: { config?: string }): string {
  return resolve(opts.config ?? process.env.STIXGATE_CONFIG ?? DEFAULT_CONFIG);
}

/** The configuration for one-shot commands: the file when it exists, else built-in defaults. */
export function loadForCommand(opts: { config?: string }, extraSources?: Record<string, unknown>): LoadedConfig {
  const path = configPath(opts);
  if (!extraSources) return loadConfig(path, registry);
  // one-shot commands validate an ad-hoc source entry with the same schema as the file
  const merged = { ...configYaml(path), sources: extraSources };
  return parseConfig(JSON.stringify(merged), { file: path, registry });
}

/** The configured sink `id`, or an error naming the configuration file and the sinks it has. */
export function configuredSink(loaded: LoadedConfig, id: string, opts: { config?: string }) {
  const c = Object.hasOwn(loaded.config.sinks, id) ? loaded.config.sinks[id] : undefined;
  if (!c)
    throw new Error(
      `no sink "${id}" in ${configPath(opts)} (configured: ${Object.keys(loaded.config.sinks).join(', ') || 'none'})`,
    );
  return c;
}

/** The ad-hoc source entry `loadForCommand` validated from the command line. */
export function adhocSourceConfig(loaded: LoadedConfig, id = 'cli') {
  const c = loaded.config.sources[id];
  if (!c) throw new Error(`no source "${id}" in the command-line configuration`);
  return c;
}

/** The configuration file as YAML data before validation: `{}` when the file does not exist. */
export function configYaml(path: string): Record<string, unknown> {
  return existsSync(path) ? ((parseYaml(readFileSync(path, 'utf8')) ?? {}) as Record<string, unknown>) : {};
}

export function fail(e: unknown): never {
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`stixgate: ${msg}\n`);
  const code = isStixgateError(e) && e.code.startsWith('STIXGATE_ERR_CONFIG') ? EXIT_CONFIG : EXIT_RUNTIME;
  process.exit(code);
}

/** A command's action whose failure is reported by `fail` (message on stderr, exit code of its kind). */
export function orFail<A extends unknown[]>(action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args) => {
    try {
      await action(...args);
    } catch (e) {
      fail(e);
    }
  };
}

/** Calls `stop` on SIGINT or SIGTERM (Ctrl-C, or a container stopping). */
export function onStopSignal(stop: () => void): void {
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** A URL the local host can reach: a daemon listening on every address answers on loopback. */
export function reachableUrl(url: string): string {
  const u = new URL(url);
  if (u.hostname === '0.0.0.0') u.hostname = '127.0.0.1';
  if (u.hostname === '[::]') u.hostname = '[::1]';
  return u.origin;
}

export const configOpt = () =>
  new Option('-c, --config <file>', 'configuration file (default config/stixgate.yaml or $STIXGATE_CONFIG)');
export const dataDirOpt = () => new Option('--data-dir <dir>', 'embedded store directory (overrides data_dir)');

/** Option parsers: a bad value is a usage error (exit 2) naming the option, before anything runs. */
export function positiveInt(_flag: string, v: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new InvalidArgumentError('expected a positive integer');
  return Number(v);
}

export function parsePort(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) > 65535)
    throw new InvalidArgumentError('expected a port number from 0 to 65535 (0: any free port)');
  return Number(v);
}

/** Usage errors (unknown option, missing or invalid argument) exit 2; --help and --version exit 0. */
export function usageExitCodes(program: Command): Command {
  return program.exitOverride((err: CommanderError) => {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help')
      process.exit(0);
    process.exit(EXIT_CONFIG);
  });
}

/** Exits once everything written to stdout has been handed to the OS (a pipe takes 64 KiB at a time). */
export async function exitAfterFlush(code: number): Promise<never> {
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(code);
}

/** All of stdin as text (for secrets that must not appear on the command line). */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** `name=port` pairs (simulate --port splunk=8089). */
export function parseNamedPort(v: string, prev: Record<string, number> = {}): Record<string, number> {
  const m = /^([a-z]+)=(\d+)$/.exec(v);
  const [, name, port] = m ?? [];
  if (name === undefined || port === undefined || Number(port) > 65535)
    throw new InvalidArgumentError('expected name=port, e.g. splunk=8089');
  return { ...prev, [name]: Number(port) };
}
