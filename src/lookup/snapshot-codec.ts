import { open, type FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';

/** Bytes gathered before a block is written to the file (and the event loop gets a turn). */
const CHUNK = 1 << 20;

/**
 * Appends little-endian numbers and length-prefixed UTF-8 strings to a file in blocks of about
 * 1 MiB, keeping a running CRC-32 of everything written. A block ends only at a `boundary()`
 * where the buffer is full enough, so a record never spans blocks and the reader can decode a
 * block synchronously.
 */
export class SnapshotWriter {
  private buf = Buffer.allocUnsafe(CHUNK);
  private at = 4;
  private crc = 0;
  bytes = 0;

  private constructor(private readonly fh: FileHandle) {}

  static async create(path: string): Promise<SnapshotWriter> {
    return new SnapshotWriter(await open(path, 'w', 0o640));
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.at++] = v;
  }

  u32(v: number): void {
    this.room(4);
    this.buf.writeUInt32LE(v >>> 0, this.at);
    this.at += 4;
  }

  i32(v: number): void {
    this.room(4);
    this.buf.writeInt32LE(v | 0, this.at);
    this.at += 4;
  }

  f64(v: number): void {
    this.room(8);
    this.buf.writeDoubleLE(v, this.at);
    this.at += 8;
  }

  str(s: string): void {
    this.room(4 + s.length * 3);
    const n = this.buf.write(s, this.at + 4, 'utf8');
    this.buf.writeUInt32LE(n, this.at);
    this.at += 4 + n;
  }

  bytesOf(b: Uint8Array): void {
    this.u32(b.byteLength);
    this.room(b.byteLength);
    this.buf.set(b, this.at);
    this.at += b.byteLength;
  }

  /** True when the block is full enough to be written at the next record boundary. */
  get due(): boolean {
    return this.at >= CHUNK - 64 * 1024;
  }

  /** Between two records (when `due`): writes the block. */
  async boundary(): Promise<void> {
    if (this.due) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.at === 4) return;
    this.buf.writeUInt32LE(this.at - 4, 0);
    const part = this.buf.subarray(0, this.at);
    this.crc = crc32(part, this.crc);
    for (let off = 0; off < part.length; ) off += (await this.fh.write(part, off, part.length - off)).bytesWritten;
    this.bytes += part.length;
    this.at = 4;
    if (this.buf.length > CHUNK) this.buf = Buffer.allocUnsafe(CHUNK);
  }

  /** Writes what is buffered, an empty end block, the CRC-32 of all before it, and closes the file. */
  async finish(): Promise<void> {
    await this.flush();
    const tail = Buffer.alloc(8);
    this.crc = crc32(tail.subarray(0, 4), this.crc);
    tail.writeUInt32LE(this.crc >>> 0, 4);
    await this.fh.write(tail, 0, 8);
    this.bytes += 8;
    await this.fh.sync();
    await this.fh.close();
  }

  async abandon(): Promise<void> {
    await this.fh.close().catch(() => undefined);
  }
}

/** Why a snapshot was not read: the daemon logs it and rebuilds the index from the store. */
export class SnapshotUnusable extends Error {}

const TRUNCATED = 'the file is truncated or damaged';

/** Reads what SnapshotWriter wrote, a block at a time; the CRC-32 is checked at the end. */
export class SnapshotReader {
  private buf: Buffer = Buffer.alloc(0);
  private at = 0;
  private pos = 0;
  private crc = 0;
  private ended = false;

  private constructor(private readonly fh: FileHandle) {}

  static async open(path: string): Promise<SnapshotReader> {
    return new SnapshotReader(await open(path, 'r'));
  }

  private async readExactly(n: number): Promise<Buffer> {
    const out = Buffer.allocUnsafe(n);
    for (let off = 0; off < n; ) {
      const { bytesRead } = await this.fh.read(out, off, n - off, this.pos + off);
      if (bytesRead === 0) throw new SnapshotUnusable(TRUNCATED);
      off += bytesRead;
    }
    this.pos += n;
    return out;
  }

  /** True when this block is used up: call `boundary()` before the next record. */
  get exhausted(): boolean {
    return this.at >= this.buf.length;
  }

  /** Between two records: reads the next block when this one is used up. */
  async boundary(): Promise<void> {
    if (this.at < this.buf.length || this.ended) return;
    const head = await this.readExactly(4);
    this.crc = crc32(head, this.crc);
    const n = head.readUInt32LE(0);
    if (n === 0) {
      this.ended = true;
      this.buf = Buffer.alloc(0);
      this.at = 0;
      return;
    }
    if (n > 1 << 30) throw new SnapshotUnusable(TRUNCATED);
    this.buf = await this.readExactly(n);
    this.crc = crc32(this.buf, this.crc);
    this.at = 0;
  }

  private take(n: number): number {
    const at = this.at;
    if (at + n > this.buf.length) throw new SnapshotUnusable(TRUNCATED);
    this.at += n;
    return at;
  }

  u8(): number {
    return this.buf[this.take(1)] as number;
  }

  u32(): number {
    return this.buf.readUInt32LE(this.take(4));
  }

  i32(): number {
    return this.buf.readInt32LE(this.take(4));
  }

  f64(): number {
    return this.buf.readDoubleLE(this.take(8));
  }

  str(): string {
    const n = this.u32();
    const at = this.take(n);
    return this.buf.toString('utf8', at, at + n);
  }

  /** A length-prefixed byte run, copied out of the block. */
  bytes(): Uint8Array {
    const n = this.u32();
    const at = this.take(n);
    return new Uint8Array(this.buf.subarray(at, at + n));
  }

  /** Checks that the end block was reached, nothing follows the CRC, and the CRC matches; closes the file. */
  async finish(): Promise<void> {
    try {
      await this.boundary();
      if (!this.ended || this.at !== this.buf.length) throw new SnapshotUnusable('the file holds more than the index');
      const tail = await this.readExactly(4);
      if (tail.readUInt32LE(0) !== this.crc >>> 0)
        throw new SnapshotUnusable('the checksum does not match (the file is damaged)');
      if ((await this.fh.stat()).size !== this.pos) throw new SnapshotUnusable('the file has trailing bytes');
    } finally {
      await this.fh.close();
    }
  }

  async abandon(): Promise<void> {
    await this.fh.close().catch(() => undefined);
  }
}
