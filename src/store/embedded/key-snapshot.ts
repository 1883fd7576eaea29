import { closeSync, openSync, readSync, renameSync, rmSync, fstatSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import type { KeyIndex } from './key-index.js';

/**
 * The key tables written at a clean close and read back at the next open (ADR 0006), so that a
 * restart skips the scan of `object_keys` (~1.2 s per million objects). A snapshot is used only
 * when its token matches the one the store wrote into `meta` at that close and its head matches
 * the store's; any open for writing clears the token first, and a damaged file fails its CRC.
 * Whatever does not match costs only the scan.
 */
export const KEY_SNAPSHOT_FILE = 'keys.snapshot';

const MAGIC = 'STXGKEY1';
const HEADER = 96;
/** Written in the machine's byte order: a file from a machine of the other order is not used. */
const ORDER_MARK = 0x01020304;

function bytesOf(a: Uint32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export function writeKeySnapshot(path: string, token: string, head: number, keys: KeyIndex): void {
  const ids = keys.ids.raw;
  const values = keys.values.raw;
  const header = Buffer.alloc(HEADER);
  header.write(MAGIC, 0, 'latin1');
  new Uint32Array(header.buffer, header.byteOffset + 8, 1)[0] = ORDER_MARK;
  header.write(token, 12, 64, 'latin1');
  header.writeDoubleLE(head, 76);
  header.writeUInt32LE(ids.slots.length, 84);
  header.writeUInt32LE(ids.count, 88);
  header.writeUInt32LE(values.slots.length, 92);
  const tail = Buffer.alloc(8);
  tail.writeUInt32LE(values.count, 0);
  tail.writeUInt32LE(crc32(bytesOf(values.slots), crc32(bytesOf(ids.slots))), 4);
  const tmp = `${path}.new`;
  try {
    const fd = openSync(tmp, 'w', 0o640);
    try {
      for (const part of [header, bytesOf(ids.slots), bytesOf(values.slots), tail]) {
        for (let off = 0; off < part.byteLength; ) off += writeSync(fd, part, off, part.byteLength - off);
      }
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

function readFully(fd: number, into: Uint8Array, position: number): boolean {
  for (let off = 0; off < into.byteLength; ) {
    const n = readSync(fd, into, off, into.byteLength - off, position + off);
    if (n === 0) return false;
    off += n;
  }
  return true;
}

/** Loads a matching snapshot into `keys`; false (and `keys` untouched) when there is none or it does not match. */
export function readKeySnapshot(path: string, token: string, head: number, keys: KeyIndex): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    const header = Buffer.alloc(HEADER);
    if (!readFully(fd, header, 0)) return false;
    if (header.toString('latin1', 0, 8) !== MAGIC) return false;
    if (new Uint32Array(header.buffer, header.byteOffset + 8, 1)[0] !== ORDER_MARK) return false;
    if (header.toString('latin1', 12, 76).replace(/\0+$/, '') !== token || header.readDoubleLE(76) !== head)
      return false;
    const idLen = header.readUInt32LE(84);
    const idCount = header.readUInt32LE(88);
    const valueLen = header.readUInt32LE(92);
    if (fstatSync(fd).size !== HEADER + (idLen + valueLen) * 4 + 8) return false;
    const ids = new Uint32Array(idLen);
    const values = new Uint32Array(valueLen);
    const tail = Buffer.alloc(8);
    if (
      !readFully(fd, bytesOf(ids), HEADER) ||
      !readFully(fd, bytesOf(values), HEADER + idLen * 4) ||
      !readFully(fd, tail, HEADER + (idLen + valueLen) * 4)
    )
      return false;
    if (tail.readUInt32LE(4) !== crc32(bytesOf(values), crc32(bytesOf(ids)))) return false;
    try {
      keys.ids.restore(ids, idCount);
      keys.values.restore(values, tail.readUInt32LE(0));
    } catch {
      keys.clear();
      return false;
    }
    return true;
  } finally {
    closeSync(fd);
  }
}

export function removeKeySnapshot(path: string): void {
  rmSync(path, { force: true });
}
