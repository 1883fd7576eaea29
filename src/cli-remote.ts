import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { Agent, fetch } from 'undici';
import { isStixgateError, errorMessage } from './core/errors.js';
import type { Store } from './store/contract.js';
import type { LoadedConfig } from './config/load.js';
import { openStore } from './config/open-store.js';
import { readDaemonFile } from './daemon-file.js';
import { reachableUrl, readStdin } from './cli-common.js';

/**
 * The CLI's side of the admin API: commands that need the store (`lookup`, `stats`, `push`,
 * `ingest`, `export`) open it directly, and when a running daemon holds it (the embedded store's
 * lock, STIXGATE_ERR_STORE_LOCKED) or `--url` is given, ask that daemon over HTTP instead.
 *
 * Address: `--url`, else `$STIXGATE_URL`, else `cli.url` in the configuration, else the address
 * the daemon wrote to `<data_dir>/daemon.json`. Key: `--api-key-file FILE` (`-` reads stdin),
 * else `$STIXGATE_API_KEY`, else `cli.api_key` (a `${ENV}` or `${file:}` reference). A key is
 * never taken from the command line itself (it would show in the process list and shell history).
 */

export const API_KEY_ENV = 'STIXGATE_API_KEY';
export const URL_ENV = 'STIXGATE_URL';

export interface RemoteOptions {
  url?: string;
  apiKeyFile?: string;
}

/** Adds `--url` and `--api-key-file` to a command that can run against a daemon. */
export function addRemoteOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        '--url <url>',
        `the running daemon to ask (default: $${URL_ENV}, cli.url, or the address in <data_dir>/daemon.json when the store is locked)`,
      ),
    )
    .addOption(
      new Option(
        '--api-key-file <file>',
        `read the daemon's API key from this file ("-": stdin); default $${API_KEY_ENV} or cli.api_key`,
      ),
    );
}

/** An error answer of the daemon, with its status and stable code. */
export class RemoteError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'RemoteError';
  }
}

export interface RemoteRequest {
  query?: Record<string, string | number | boolean | readonly string[] | undefined>;
  /** A JSON body (objects) or raw bytes (sent as application/octet-stream). */
  body?: unknown;
}

/** A small client for the daemon's HTTP API: JSON in and out, the key as a bearer token, no timeout on long runs. */
export class RemoteClient {
  // a push --full or a large ingest may take minutes before the answer's headers: no client-side deadline
  private readonly dispatcher = new Agent({ headersTimeout: 0, bodyTimeout: 0 });

  constructor(
    readonly baseUrl: string,
    private readonly key: string | undefined,
  ) {}

  async call<T>(method: 'GET' | 'POST', path: string, r: RemoteRequest = {}): Promise<T> {
    const url = new URL(path, this.baseUrl);
    for (const [k, v] of Object.entries(r.query ?? {})) {
      if (v === undefined) continue;
      for (const x of Array.isArray(v) ? v : [v]) url.searchParams.append(k, String(x));
    }
    const headers: Record<string, string> = {};
    if (this.key) headers.authorization = `Bearer ${this.key}`;
    let body: string | Buffer | undefined;
    if (Buffer.isBuffer(r.body)) {
      body = r.body;
      headers['content-type'] = 'application/octet-stream';
    } else if (r.body !== undefined) {
      body = JSON.stringify(r.body);
      headers['content-type'] = 'application/json';
    }
    let res: Awaited<ReturnType<typeof fetch>>;
    try {
      res = await fetch(url, { method, headers, body, dispatcher: this.dispatcher });
    } catch (e) {
      const cause = (e as { cause?: Error }).cause?.message ?? errorMessage(e);
      throw new RemoteError(0, 'unreachable', `the daemon at ${this.baseUrl} cannot be reached: ${cause}`);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      throw new RemoteError(
        res.status,
        'protocol',
        `the daemon at ${this.baseUrl} answered ${res.status} with a body that is not JSON`,
      );
    }
    if (!res.ok) {
      const err = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
      const hint = res.status === 401 ? ` (give a key: --api-key-file, $${API_KEY_ENV} or cli.api_key)` : '';
      throw new RemoteError(
        res.status,
        err?.code ?? 'http',
        `the daemon at ${this.baseUrl} refused ${method} ${url.pathname}: ${res.status} ${err?.message ?? ''}${hint}`.trimEnd(),
      );
    }
    return json as T;
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}

/** The daemon's key from the file named by `--api-key-file` (or stdin), the environment, or the configuration. */
export async function remoteKey(opts: RemoteOptions, loaded: LoadedConfig | undefined): Promise<string | undefined> {
  if (opts.apiKeyFile !== undefined) {
    const text = opts.apiKeyFile === '-' ? await readStdin() : readFileSync(opts.apiKeyFile, 'utf8');
    const key = text.trim();
    if (!key) throw new Error(`--api-key-file ${opts.apiKeyFile}: no key in it`);
    return key;
  }
  return process.env[API_KEY_ENV] || loaded?.config.cli.api_key || undefined;
}

/** The daemon's address: --url, $STIXGATE_URL, cli.url, else the address the daemon holding `dataDir` wrote. */
export function remoteUrl(
  opts: RemoteOptions,
  loaded: LoadedConfig | undefined,
  dataDir: string | undefined,
): string | undefined {
  const explicit = opts.url ?? process.env[URL_ENV] ?? loaded?.config.cli.url;
  if (explicit) return explicit;
  const d = dataDir === undefined ? undefined : readDaemonFile(dataDir);
  if (!d) return undefined;
  return reachableUrl(d.url);
}

export type StoreOrDaemon = { store: Store; remote?: undefined } | { store?: undefined; remote: RemoteClient };

/**
 * The store when this process can open it; the running daemon's API when `--url` is given or a
 * daemon holds the store's lock. The caller closes what it gets (`closeTarget`).
 */
export async function openStoreOrDaemon(
  opts: RemoteOptions,
  loaded: LoadedConfig,
  dataDir: string,
): Promise<StoreOrDaemon> {
  if (opts.url === undefined) {
    try {
      return { store: await openStore(loaded.config, dataDir, 'command') };
    } catch (e) {
      if (!(isStixgateError(e) && e.code === 'STIXGATE_ERR_STORE_LOCKED')) throw e;
    }
  }
  const url = remoteUrl(opts, loaded, dataDir);
  if (!url)
    throw new Error(
      `the store in ${dataDir} is locked by another process and no daemon address is known (give --url, $${URL_ENV} or cli.url)`,
    );
  return { remote: new RemoteClient(url, await remoteKey(opts, loaded)) };
}

export async function closeTarget(t: StoreOrDaemon): Promise<void> {
  if (t.store) await t.store.close();
  else await t.remote.close();
}

/** Runs `fn` with the store or the daemon's client (`openStoreOrDaemon`), and closes it after. */
export async function withStoreOrDaemon<T>(
  opts: RemoteOptions,
  loaded: LoadedConfig,
  dataDir: string,
  fn: (t: StoreOrDaemon) => Promise<T>,
): Promise<T> {
  const t = await openStoreOrDaemon(opts, loaded, dataDir);
  try {
    return await fn(t);
  } finally {
    await closeTarget(t);
  }
}
