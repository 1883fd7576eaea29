import type { SourceDefinition } from '../pipeline/types.js';
import type { SinkDefinition } from '../delivery/types.js';
import type { EnricherDefinition } from '../enrich/types.js';

/**
 * What a registry entry is: a source, a sink or an enricher definition. The composition root
 * (this folder, the CLI and the daemon) works with the union; each runner takes the kind it runs.
 */
export type IntegrationDefinition = SourceDefinition | SinkDefinition | EnricherDefinition;
