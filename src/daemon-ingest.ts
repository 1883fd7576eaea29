import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { validate } from './core/schema.js';
import { StixgateError, type Rejection, errorMessage } from './core/errors.js';
import type { Logger } from './telemetry/logger.js';
import type { Metrics } from './telemetry/metrics.js';
import type { Store } from './store/contract.js';
import { buildConfigSchema } from './config/config-schema.js';
import { ConfigError, type LoadedConfig } from './config/load.js';
import type { IntegrationDefinition } from './config/registry.js';
import { createSourceComponent, type SourceComponent } from './pipeline/components.js';
import { runSource } from './pipeline/runner.js';
import type { Source } from './pipeline/types.js';
import type { Allowlist } from './filter/ingest-allowlist.js';
import { MAPPINGS_DIR } from './paths.js';
import type { IngestReport, IngestRequest, ObjectStatus } from './server/admin-types.js';

/** The runner's filter reasons (src/pipeline/runner.ts): an object they drop is `filtered`, not `rejected`. */
const FILTERS = new Set(['tlp_red', 'allowlist']);

/** Objects listed one by one in an ingest answer; the counts cover every object. */
export const MAX_LISTED_OBJECTS = 10_000;

/** The source types that read whole documents (`transfer: document`): the ones a posted document can go through. */
export function documentTypes(registry: readonly IntegrationDefinition[]): string[] {
  return registry
    .filter((d) => d.kind === 'source' && (d as { transfer?: string }).transfer === 'document')
    .map((d) => d.type)
    .sort();
}

export interface IngestContext {
  registry: readonly IntegrationDefinition[];
  loaded: LoadedConfig;
  dataDir: string;
  store: Store;
  allowlist: Allowlist;
  metrics?: Metrics;
  logger: Logger;
  now: () => number;
}

/**
 * One posted document through the path a source run takes: the ad-hoc source entry (type and
 * options) is validated with the configuration schema, the document is written to a private
 * file under `<data_dir>/ingest/` and read by that source type's own reader, then mapped, gated,
 * filtered and stored as the source `sourceId`. Each object's fate is recorded (bounded list).
 */
export async function ingestDocument(doc: Buffer, r: IngestRequest, c: IngestContext): Promise<IngestReport> {
  if (Object.hasOwn(c.loaded.config.sources, r.sourceId)) {
    throw new StixgateError(
      'STIXGATE_ERR_CONFIG_INVALID',
      `source_id "${r.sourceId}" names a configured source; give the ingest its own id (its cursor and provenance are kept apart)`,
    );
  }
  const dir = join(c.dataDir, 'ingest');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${r.sourceId}-${randomBytes(8).toString('hex')}.doc`);
  const entry = { ...r.options, type: r.type, url: file, run_on_start: false };
  const checked = validate(buildConfigSchema(c.registry), { sources: { [r.sourceId]: entry } });
  if (!checked.ok) throw new ConfigError(`ingest ${r.type}`, checked.issues);
  const config = (checked.value.sources as Record<string, SourceComponent['config']>)[r.sourceId];
  if (config === undefined)
    throw new StixgateError(
      'STIXGATE_ERR_CONFIG_INVALID',
      `ingest ${r.type}: the checked configuration holds no source ${r.sourceId}`,
    );
  let comp: SourceComponent;
  try {
    comp = createSourceComponent(r.sourceId, config, {
      registry: c.registry,
      logger: c.logger,
      configDir: c.loaded.dir,
      mappingsDir: MAPPINGS_DIR,
    });
  } catch (e) {
    throw new StixgateError('STIXGATE_ERR_CONFIG_INVALID', `ingest ${r.type}: ${errorMessage(e)}`);
  }
  const objects: ObjectStatus[] = [];
  const at = new Map<string, number>();
  let truncated = false;
  // messages name the document, never the temporary file it was written to
  const hide = (m: string) => m.split(file).join(`the posted ${r.type} document`);
  try {
    await writeFile(file, doc, { mode: 0o600 });
    const record = (id: string | undefined, status: ObjectStatus['status'], why?: Rejection) => {
      const entry: ObjectStatus = {
        ...(id !== undefined ? { id } : {}),
        status,
        ...(why
          ? {
              reason: why.reason,
              ...(status === 'rejected' ? { message: hide(why.message) } : {}),
              ...(why.location ? { location: { source: r.sourceId, ...why.location, file: undefined } } : {}),
            }
          : {}),
      };
      // a later fate of the same object (the gate, a filter, the store) replaces its `accepted`
      const prev = id !== undefined ? at.get(id) : undefined;
      if (prev !== undefined) objects[prev] = entry;
      else if (objects.length >= MAX_LISTED_OBJECTS) truncated = true;
      else {
        if (id !== undefined) at.set(id, objects.length);
        objects.push(entry);
      }
    };
    // every mapped object is seen on its way to the runner; what the runner then drops is reported by onDropped
    const source: Source = {
      async *pages(ctx) {
        for await (const page of comp.source.pages(ctx)) {
          for (const it of page.items) record(it.object.id, 'accepted');
          for (const rej of page.rejections) record(rej.location?.objectId, 'rejected', rej);
          yield page;
        }
      },
    };
    const sum = await runSource({
      id: r.sourceId,
      source,
      config: comp.config,
      store: c.store,
      http: comp.http,
      logger: comp.logger,
      metrics: c.metrics,
      allowlist: c.allowlist,
      allowRed: c.loaded.config.allow_red,
      defaultTlp: c.loaded.config.default_tlp,
      signal: new AbortController().signal,
      now: c.now,
      full: true,
      onDropped: (why) => record(why.location?.objectId, FILTERS.has(why.reason) ? 'filtered' : 'rejected', why),
    });
    const { samples: _samples, cursor: _cursor, ...summary } = sum;
    return { source_id: r.sourceId, type: r.type, summary, objects: objects.map(clean), objects_truncated: truncated };
  } catch (e) {
    if (e instanceof StixgateError) throw new StixgateError(e.code, hide(e.message), { reason: e.reason });
    throw e;
  } finally {
    await comp.http.close().catch(() => undefined);
    await rm(file, { force: true });
  }
}

/** Drops the keys left undefined (the temporary file's path is never shown). */
function clean(o: ObjectStatus): ObjectStatus {
  if (!o.location) return o;
  const location = Object.fromEntries(Object.entries(o.location).filter(([, v]) => v !== undefined));
  return { ...o, location };
}
