import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/load.js';
import { registry } from '../../integrations/index.js';

test('a source with neither schedule nor interval_secs is warned about; scheduled and disabled ones are not', () => {
  const text = `sources:
  implicit:
    type: text_list
    url: https://feeds.example.org/a.txt
  cron:
    type: text_list
    url: https://feeds.example.org/b.txt
    schedule: '0 * * * *'
  every:
    type: text_list
    url: https://feeds.example.org/c.txt
    interval_secs: 900
  off:
    type: text_list
    url: https://feeds.example.org/d.txt
    enabled: false
`;
  const loaded = parseConfig(text, { file: '/etc/stixgate/s.yaml', registry, env: {} });
  assert.deepEqual(
    loaded.warnings.filter((w) => w.includes('schedule')),
    [
      'sources.implicit has neither schedule nor interval_secs: it is polled every 3600 s by default; set one of them to say how often',
    ],
  );
});
