import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { runComponent, sourceComponent } from '../helpers/source-harness.js';

test('a document refused for too many bad records says why: counts by reason and the first bad record with its line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-refused-'));
  try {
    writeFileSync(join(dir, 'list.txt'), '198.51.100.7\nnot an address\n0.0.0.0/0\nalso bad\n');
    const comp = sourceComponent(
      't',
      {
        type: 'text_list',
        url: pathToFileURL(join(dir, 'list.txt')).href,
        value_type: 'ipv4-addr',
        max_bad_ratio: 0.5,
        bad_ratio_min_records: 4,
        interval_secs: 3600,
      },
      { file: join(dir, 'c.yaml'), configDir: dir },
    );
    const store = await openEmbeddedStore({ dataDir: join(dir, 'data') });
    try {
      await assert.rejects(runComponent(comp, store, Date.UTC(2026, 0, 1)), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'STIXGATE_ERR_INPUT_TOO_MANY_BAD_ROWS');
        assert.match(
          e.message,
          /^3 of 4 records rejected \(75\.0% > max_bad_ratio 50%\); cursor not advanced; reasons: invalid_ipv4 2, cidr_too_wide 1; first at line 2: invalid IPv4 address: "not"/,
        );
        return true;
      });
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
