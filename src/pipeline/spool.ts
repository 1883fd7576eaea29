import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { StixgateError } from '../core/errors.js';

/**
 * Downloads a document body completely before anything reads it: the first `memoryBytes` stay in
 * memory, the rest goes to a temporary file (mode 0600, removed from its folder as soon as it is
 * open, so no path — error, abort, crash — leaves it behind). The connection is therefore
 * released at network speed and the client's timeouts measure the network, never the store; a
 * transfer that fails ends here, before any page of the document exists (atomic documents).
 */
export interface SpoolOptions {
  /** Cap on the spooled bytes (`max_feed_bytes`). */
  maxBytes: number;
  /** Bytes kept in memory before spilling to a file. Default 1 MiB. */
  memoryBytes?: number;
  /** Folder for the temporary file. Default: the system's (TMPDIR). */
  dir?: string;
  /** The source id, for messages. */
  name: string;
}

export interface Spooled {
  /** The spooled bytes, readable once; the file is closed when the reading ends or stops. */
  body: AsyncIterable<Buffer>;
  /** Bytes spooled. */
  size: number;
  /** True when the body went to a file. */
  onDisk: boolean;
  /** SHA-256 of the spooled bytes (hex): the document's identity for poison tracking. */
  sha256: string;
}

const READ_CHUNK = 1 << 16;

export async function spool(source: AsyncIterable<Buffer>, o: SpoolOptions): Promise<Spooled> {
  const memoryBytes = o.memoryBytes ?? 1 << 20;
  const head: Buffer[] = [];
  let size = 0;
  let file: FileHandle | undefined;
  const hash = createHash('sha256');
  try {
    for await (const chunk of source) {
      size += chunk.length;
      hash.update(chunk);
      if (size > o.maxBytes) {
        throw new StixgateError(
          'STIXGATE_ERR_INPUT_TOO_LARGE',
          `document exceeds max_feed_bytes (${o.maxBytes} bytes)`,
          { reason: 'too_large', location: { source: o.name } },
        );
      }
      if (!file && size <= memoryBytes) {
        head.push(chunk);
        continue;
      }
      if (!file) {
        file = await openAnonymous(o.dir ?? tmpdir());
        for (const b of head.splice(0)) await file.write(b);
      }
      await file.write(chunk);
    }
  } catch (e) {
    await file?.close().catch(() => undefined);
    throw e;
  }
  const sha256 = hash.digest('hex');
  if (!file) return { body: fromMemory(head), size, onDisk: false, sha256 };
  return { body: fromFile(file, size), size, onDisk: true, sha256 };
}

/** Opens a new temporary file and removes its name at once: the open handle keeps the data. */
async function openAnonymous(dir: string): Promise<FileHandle> {
  const folder = await mkdtemp(join(dir, 'stixgate-spool-'));
  try {
    const handle = await open(join(folder, 'body'), 'w+', 0o600);
    return handle;
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

async function* fromMemory(chunks: Buffer[]): AsyncGenerator<Buffer> {
  for (let c = chunks.shift(); c !== undefined; c = chunks.shift()) yield c;
}

async function* fromFile(file: FileHandle, size: number): AsyncGenerator<Buffer> {
  try {
    for (let pos = 0; pos < size; ) {
      const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, size - pos));
      const { bytesRead } = await file.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
    }
  } finally {
    await file.close().catch(() => undefined);
  }
}
