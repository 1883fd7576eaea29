import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { TEXT_LIST_PAGE_SIZE } from '../../integrations/text_list/source.js';
import { runComponent, sourceComponent } from '../helpers/source-harness.js';

test('progress callbacks count each record and each store outcome once, however many pages a transaction coalesces', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-progress-'));
  try {
    const n = TEXT_LIST_PAGE_SIZE * 2 + 2000; // three pages; the first two share a transaction
    const lines = Array.from({ length: n }, (_, i) => `11.${i >> 8}.${i & 255}.7`);
    writeFileSync(join(dir, 'list.txt'), `${lines.join('\n')}\n`);
    const comp = sourceComponent(
      't',
      { type: 'text_list', url: pathToFileURL(join(dir, 'list.txt')).href, value_type: 'ipv4-addr' },
      { file: join(dir, 'c.yaml'), configDir: dir },
    );
    const store = await openEmbeddedStore({ dataDir: join(dir, 'data') });
    try {
      const commits: { received: number; created: number }[] = [];
      const sum = await runComponent(comp, store, Date.UTC(2026, 0, 1), {
        batchSize: TEXT_LIST_PAGE_SIZE * 2,
        onCommit: (received, r) => commits.push({ received, created: r.created }),
      });
      assert.equal(sum.pages, 3);
      // two transactions, the first holding two pages: each record and each creation counted once
      assert.equal(commits.length, 2);
      assert.deepEqual(
        commits.map((c) => c.received === c.created),
        [true, true],
      );
      assert.equal(
        commits.reduce((t, c) => t + c.received, 0),
        n,
      );
      assert.equal(
        commits.reduce((t, c) => t + c.created, 0),
        n,
      );
      assert.equal(sum.created, n);
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
