import { s, type Infer } from '../core/schema.js';

/** The `correlation:` section of the configuration. */
export const correlationSchema = s.object(
  {
    enabled: s.bool({
      default: true,
      description: 'keep the correlation index (correlation.db in data_dir) and serve /api/v1/objects/{id}/related',
    }),
    max_fanout_per_value: s.int({
      default: 20,
      min: 1,
      max: 1000,
      description:
        'most derived links one value takes part in, and most holders of one value that correlate (MISP default 20); changing it rebuilds the index',
    }),
    follow_interval_ms: s.int({
      default: 1000,
      min: 50,
      max: 60000,
      description:
        'how often the correlation index applies new change-log entries (it also runs right after each ingest)',
    }),
    page_size: s.int({
      default: 2000,
      min: 100,
      max: 50000,
      description: 'change-log entries read per page (applied at most 200 per transaction, an event-loop turn apart)',
    }),
  },
  { default: { enabled: true, max_fanout_per_value: 20, follow_interval_ms: 1000, page_size: 2000 } },
);

export type CorrelationConfig = Infer<typeof correlationSchema>;
