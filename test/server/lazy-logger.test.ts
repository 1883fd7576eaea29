import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { LazyChildLogger, lazyChildLogger } from '../../src/server/lazy-logger.js';
import { KEYS, bearer, setup } from './helpers.js';
import { must } from '../helpers/must.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk, _enc, cb) {
        lines.push(JSON.parse(String(chunk)));
        cb();
      },
    }),
  );
  return { logger, lines };
}

test('lazy child: builds the pino child on first log only, with the same bindings and level', () => {
  const { logger, lines } = capture();
  let children = 0;
  const parent = Object.create(logger, {
    child: {
      value: (b: object, o: object) => {
        children++;
        return logger.child(b, o);
      },
    },
  });
  const quiet = lazyChildLogger(parent, { reqId: 'req-1' }, {});
  assert.equal(quiet.level, 'info');
  assert.equal(children, 0);
  const c = lazyChildLogger(parent, { reqId: 'req-2' }, { level: 'warn' });
  assert.ok(c instanceof LazyChildLogger);
  assert.equal(c.level, 'warn');
  c.info('dropped below warn');
  c.warn({ a: 1 }, 'kept');
  c.error('also %s', 'kept');
  assert.equal(children, 1);
  assert.deepEqual(
    lines.map((l) => [l.reqId, l.level, l.msg, l.a]),
    [
      ['req-2', 40, 'kept', 1],
      ['req-2', 50, 'also kept', undefined],
    ],
  );
  const grand = c.child({ sub: 'x' });
  grand.warn('nested');
  assert.deepEqual(
    [must(lines[2], 'lines[2]').reqId, must(lines[2], 'lines[2]').sub, must(lines[2], 'lines[2]').msg],
    ['req-2', 'x', 'nested'],
  );
});

test('audit lines keep the per-request id; anonymous happy-path lookups log nothing', async () => {
  const { app, lines } = await setup({ anonymous_lookup: true });
  await app.inject({ method: 'GET', url: '/api/v1/lookup?value=198.51.100.7' });
  await app.inject({ method: 'GET', url: '/api/v1/lookup?value=203.0.113.9' });
  assert.equal(lines.length, 0);
  const anon = await app.inject({ method: 'GET', url: '/api/v1/lookup?value=198.51.100.7' });
  // anonymous callers see TLP:CLEAR only: 198.51.100.7 is green
  assert.deepEqual(anon.json(), { value: '198.51.100.7', type: 'ipv4-addr', matched: false, indicators: [] });
  await app.inject({ method: 'GET', url: '/api/v1/lookup?value=198.51.100.7', headers: bearer(KEYS.reader) });
  await app.inject({ method: 'GET', url: '/api/v1/lookup?value=198.51.100.7', headers: bearer(KEYS.reader) });
  const calls = lines.map((l) => JSON.parse(l));
  assert.deepEqual(
    calls.map((c) => [c.msg, c.key_id, c.status]),
    [
      ['api call', 'reader', 200],
      ['api call', 'reader', 200],
    ],
  );
  assert.match(String(calls[0].reqId), /^req-/);
  assert.notEqual(calls[0].reqId, calls[1].reqId);
});
