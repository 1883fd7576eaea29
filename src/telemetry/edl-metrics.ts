import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * Firewall-list metrics (part of the catalogue, declared here beside `Metrics`), registered on
 * the daemon's registry. Labels are bounded: `list` names come from configuration, `kind` and
 * `reason` from closed sets (src/edl/formats.ts), `status` is 200 or 304.
 */
export class EdlMetrics {
  readonly entries: Gauge<'list' | 'kind'>;
  readonly truncated: Gauge<'list' | 'kind'>;
  readonly truncations: Counter<'list' | 'kind'>;
  readonly regenerations: Counter<'list' | 'kind'>;
  readonly skipped: Counter<'list' | 'kind' | 'reason'>;
  readonly withheld: Counter<'list' | 'kind'>;
  readonly requests: Counter<'list' | 'status'>;
  readonly seq: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.entries = new Gauge({
      name: 'stixgate_edl_entries',
      help: 'Lines a firewall list serves, by list and kind',
      labelNames: ['list', 'kind'],
      registers,
    });
    this.truncated = new Gauge({
      name: 'stixgate_edl_truncated_entries',
      help: 'Lines left out of a firewall list by its max_entries or max_bytes cap at the last regeneration (0: complete)',
      labelNames: ['list', 'kind'],
      registers,
    });
    this.truncations = new Counter({
      name: 'stixgate_edl_truncations_total',
      help: 'Regenerations of a firewall list that had to leave lines out to respect its cap',
      labelNames: ['list', 'kind'],
      registers,
    });
    this.regenerations = new Counter({
      name: 'stixgate_edl_regenerations_total',
      help: 'Firewall list bodies rebuilt because their lines changed',
      labelNames: ['list', 'kind'],
      registers,
    });
    this.skipped = new Counter({
      name: 'stixgate_edl_values_skipped_total',
      help: 'Values the list format cannot carry (the device would misread them), by reason; counted each time such a value is applied',
      labelNames: ['list', 'kind', 'reason'],
      registers,
    });
    this.withheld = new Counter({
      name: 'stixgate_edl_values_withheld_total',
      help: 'Values left out of a firewall list because a warninglist or the publish allowlist names them; counted each time such a value is applied',
      labelNames: ['list', 'kind'],
      registers,
    });
    this.requests = new Counter({
      name: 'stixgate_edl_requests_total',
      help: 'Firewall list requests answered, by list and status (200 with the body, 304 not modified)',
      labelNames: ['list', 'status'],
      registers,
    });
    this.seq = new Gauge({
      name: 'stixgate_edl_seq',
      help: 'Change-log sequence the firewall lists have applied',
      registers,
    });
  }
}
