import { registry } from '../integrations/index.js';
import { onStopSignal } from './cli-common.js';
import type { LoadedConfig } from './config/load.js';
import { buildPublishFilter } from './daemon-publish.js';
import { closeSinkComponent, createSinkComponent, type SinkComponent } from './delivery/component.js';
import { MAPPINGS_DIR } from './paths.js';
import { createLogger } from './telemetry/logger.js';

/**
 * Runs `work` on one configured sink from the command line (`push`, `plan`, `reconcile` without a
 * daemon): the sink's own client, limiter, mapping and dead-letter file, the daemon's publish
 * filter (warninglists, allowlists), a signal that Ctrl-C aborts, and the sink closed afterwards.
 * Logs go to stderr at `warn` when the configuration says `info`, so stdout stays the answer.
 */
export async function withCliSink<T>(
  loaded: LoadedConfig,
  sinkId: string,
  config: LoadedConfig['config']['sinks'][string],
  dataDir: string,
  work: (
    comp: SinkComponent,
    publish: Awaited<ReturnType<typeof buildPublishFilter>>,
    signal: AbortSignal,
  ) => Promise<T>,
): Promise<T> {
  const logger = createLogger({
    level: loaded.config.log_level === 'info' ? 'warn' : loaded.config.log_level,
    destination: process.stderr,
  });
  const comp = createSinkComponent(sinkId, config, {
    registry,
    logger,
    configDir: loaded.dir,
    mappingsDir: MAPPINGS_DIR,
    dataDir,
  });
  const ac = new AbortController();
  onStopSignal(() => ac.abort());
  try {
    const publish = await buildPublishFilter(loaded, logger);
    return await work(comp, publish, ac.signal);
  } finally {
    await closeSinkComponent(comp);
  }
}
