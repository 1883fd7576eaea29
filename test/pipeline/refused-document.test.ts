import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { registry } from '../../integrations/index.js';
import { parseConfig } from '../../src/config/load.js';
import { createSourceComponent } from '../../src/pipeline/components.js';
import { runSource } from '../../src/pipeline/runner.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { MAPPINGS_DIR } from '../../src/paths.js';

test('a document refused for too many bad records says why: counts by reason and the first bad record with its line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-refused-'));
  try {
    writeFileSync(join(dir, 'list.txt'), '198.51.100.7\nnot an address\n0.0.0.0/0\nalso bad\n');
    const loaded = parseConfig(
      JSON.stringify({
        sources: {
          t: {
            type: 'text_list',
            url: pathToFileURL(join(dir, 'list.txt')).href,
            value_type: 'ipv4-addr',
            max_bad_ratio: 0.5,
            bad_ratio_min_records: 4,
            interval_secs: 3600,
          },
        },
      }),
      { file: join(dir, 'c.yaml'), registry, env: {} },
    );
    const comp = createSourceComponent('t', loaded.config.sources.t as never, {
      registry,
      logger: silentLogger(),
      configDir: dir,
      mappingsDir: MAPPINGS_DIR,
    });
    const store = await openEmbeddedStore({ dataDir: join(dir, 'data') });
    try {
      await assert.rejects(
        runSource({
          id: 't',
          source: comp.source,
          config: comp.config,
          store,
          http: comp.http,
          logger: comp.logger,
          allowRed: false,
          signal: new AbortController().signal,
          now: () => Date.UTC(2026, 0, 1),
        }),
        (e: Error & { code?: string }) => {
          assert.equal(e.code, 'STIXGATE_ERR_INPUT_TOO_MANY_BAD_ROWS');
          assert.match(
            e.message,
            /^3 of 4 records rejected \(75\.0% > max_bad_ratio 50%\); cursor not advanced; reasons: invalid_ipv4 2, cidr_too_wide 1; first at line 2: invalid IPv4 address: "not"/,
          );
          return true;
        },
      );
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
