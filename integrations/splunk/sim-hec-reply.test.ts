import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hecReply } from './sim-hec.js';

test('the HEC simulator answers a known code with its status and text, and refuses an unknown code by name', () => {
  const r = hecReply(6, { 'invalid-event-number': 2 });
  assert.equal(r.status, 400);
  assert.deepEqual(JSON.parse(String(r.body)), { text: 'Invalid data format', code: 6, 'invalid-event-number': 2 });
  assert.throws(() => hecReply(99), /HEC simulator: no reply text for code 99/);
});
