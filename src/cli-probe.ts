import { errorMessage } from './core/errors.js';
import { resolve } from 'node:path';
import type { IntegrationDefinition } from './config/registry.js';
import type { LoadedConfig } from './config/load.js';
import { silentLogger } from './telemetry/logger.js';
import { createSourceComponent } from './pipeline/components.js';
import { closeSinkComponent, createSinkComponent } from './delivery/component.js';
import { createHttpClient } from './http/client.js';
import { enricherHttpPolicy, type CommonEnricherConfig } from './enrich/schema.js';
import type { EnricherDefinition } from './enrich/types.js';

/**
 * `stixgate validate --probe`: every enabled source, sink and enricher makes one minimal request
 * (HEAD or a small GET, with its credentials) and prints `ok <summary>` or `FAILED <reason>`.
 * Nothing is changed anywhere. Returns the number of failures.
 */
export async function probeComponents(
  loaded: LoadedConfig,
  registry: readonly IntegrationDefinition[],
  mappingsDir: string,
  out: (line: string) => void,
): Promise<number> {
  let failed = 0;
  const report = async (label: string, probe: (() => Promise<string>) | undefined, type: string): Promise<void> => {
    if (!probe) {
      out(`  ${label}: no probe for type ${type}`);
      return;
    }
    try {
      out(`  ${label}: ok ${await probe()}`);
    } catch (e) {
      failed++;
      out(`  ${label}: FAILED ${errorMessage(e)}`);
    }
  };
  const base = { registry, logger: silentLogger(), configDir: loaded.dir, mappingsDir };
  const ctx = (id: string, logger = base.logger) => ({
    id,
    logger,
    signal: new AbortController().signal,
    now: Date.now(),
  });

  for (const [id, c] of Object.entries(loaded.config.sources)) {
    const comp = createSourceComponent(id, c, base);
    try {
      const probe = comp.source.probe?.bind(comp.source);
      await report(id, probe && (() => probe({ ...ctx(id, comp.logger), http: comp.http })), comp.def.type);
    } finally {
      await comp.http.close();
    }
  }
  for (const [id, c] of Object.entries(loaded.config.sinks)) {
    const comp = createSinkComponent(id, c, { ...base, dataDir: resolve(loaded.config.data_dir) });
    try {
      const probe = comp.sink.probe?.bind(comp.sink);
      await report(`sink ${id}`, probe && (() => probe({ ...ctx(id, comp.logger), http: comp.http })), comp.def.type);
    } finally {
      await closeSinkComponent(comp);
    }
  }
  for (const [id, raw] of Object.entries(loaded.config.enrichers)) {
    const c = raw as CommonEnricherConfig & { type: string; enabled: boolean };
    if (!c.enabled) continue;
    const def = registry.find((d) => d.kind === 'enricher' && d.type === c.type) as EnricherDefinition | undefined;
    if (!def) continue;
    const http = createHttpClient(enricherHttpPolicy(c, loaded.dir), {
      component: `enrich:${id}`,
      logger: base.logger,
    });
    try {
      const enricher = def.create(c, { logger: base.logger, configDir: loaded.dir, mappingsDir });
      const probe = enricher.probe?.bind(enricher);
      await report(`enricher ${id}`, probe && (() => probe({ ...ctx(id), http })), c.type);
    } finally {
      await http.close();
    }
  }
  return failed;
}
