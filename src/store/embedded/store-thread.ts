/**
 * The embedded store's writer thread (docs/adr/0009-store-writer-thread.md): one EmbeddedStore,
 * opened here with the options in `workerData`, answering ThreadedStore's calls one at a time in
 * the order they were sent. Merging, canonical JSON and every SQLite statement run on this thread,
 * so the daemon's event loop never waits on them.
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import type { IngestItem } from '../contract.js';
import { EmbeddedStore, type EmbeddedStoreOptions } from './store.js';
import {
  THREAD_METHODS,
  decodeItems,
  encodeError,
  type ThreadCall,
  type ThreadReply,
  type WireItem,
} from './thread-protocol.js';

if (!parentPort) throw new Error('store-thread runs as a worker thread');
const port: MessagePort = parentPort;
// the options ThreadedStore passed (worker data is typed any)
const options: EmbeddedStoreOptions = workerData;
const store = new EmbeddedStore(options);
const methods = new Set<string>(THREAD_METHODS);
/** Upsert items (and their objects' JSON) received ahead of their call, by call id. */
const parts = new Map<number, { items: IngestItem[]; json: string[] }>();

function received(id: number, wire: readonly WireItem[]): { items: IngestItem[]; json: string[] } {
  let got = parts.get(id);
  if (!got) {
    got = { items: [], json: [] };
    parts.set(id, got);
  }
  decodeItems(wire, got.items, got.json);
  return got;
}
let queue: Promise<unknown> = store.open();
const opened = queue;

function reply(r: ThreadReply): void {
  port.postMessage(r);
}

async function answer(call: Extract<ThreadCall, { method: string }>): Promise<void> {
  try {
    await opened;
    if (!methods.has(call.method)) throw new Error(`store thread: no method ${call.method}`);
    let args = call.args;
    if (call.method === 'upsert') {
      // the last slice comes with the call
      // cast: ThreadedStore.upsert sends its encoded items first (thread-protocol.ts)
      const { items, json } = received(call.id, args[0] as WireItem[]);
      parts.delete(call.id);
      args = [items, args[1], json];
    }
    // cast: dispatch by name over the store's methods, checked against THREAD_METHODS above
    const fn = (store as unknown as Record<string, (...a: unknown[]) => unknown>)[call.method];
    if (fn === undefined) throw new Error(`store thread: no method ${call.method}`);
    const value = await fn.apply(store, args);
    reply({ id: call.id, ok: true, value });
  } catch (e) {
    reply({ id: call.id, ok: false, error: encodeError(e) });
  }
}

// call 0 is the open: it answers once the store is open (or why it is not)
opened.then(
  () => reply({ id: 0, ok: true, value: undefined }),
  (e: unknown) => reply({ id: 0, ok: false, error: encodeError(e) }),
);

port.on('message', (call: ThreadCall) => {
  if ('part' in call) {
    received(call.id, call.part);
    return;
  }
  queue = queue.then(
    () => answer(call),
    () => answer(call),
  );
});
