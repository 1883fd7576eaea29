import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * Correlation metrics (part of the catalogue, declared here beside `Metrics`), registered on the
 * daemon's registry. Labels are bounded: `derivation` is one of the five derivation kinds.
 */
export class CorrelationMetrics {
  readonly capped: Counter<'derivation'>;
  readonly applied: Counter;
  readonly seq: Gauge;
  readonly values: Gauge;
  readonly links: Gauge<'kind'>;
  readonly bytes: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.capped = new Counter({
      name: 'stixgate_correlation_capped_links_total',
      help: 'Derived links refused because a value reached the fan-out cap, by derivation',
      labelNames: ['derivation'],
      registers,
    });
    this.applied = new Counter({
      name: 'stixgate_correlation_changes_applied_total',
      help: 'Change-log entries applied to the correlation index',
      registers,
    });
    this.seq = new Gauge({
      name: 'stixgate_correlation_seq',
      help: 'Change-log sequence the correlation index has applied',
      registers,
    });
    this.values = new Gauge({
      name: 'stixgate_correlation_values',
      help: 'Distinct canonical values in the correlation index',
      registers,
    });
    this.links = new Gauge({
      name: 'stixgate_correlation_links',
      help: 'Links held by the correlation index (explicit edges, derived value links)',
      labelNames: ['kind'],
      registers,
    });
    this.bytes = new Gauge({
      name: 'stixgate_correlation_db_bytes',
      help: 'Size of correlation.db (and its WAL) on disk',
      registers,
    });
  }

  cappedBy(derivation: string): void {
    this.capped.inc({ derivation });
  }
}
