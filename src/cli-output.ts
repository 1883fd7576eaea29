import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

/**
 * Output that reaches stdout only when complete: written to a private temporary file, copied to
 * stdout by `commit()`, deleted by `discard()`. A command that fails half-way prints nothing, so a
 * consumer never reads a truncated document as a whole one. Memory stays bounded (a file, not a buffer).
 */
export class SpooledOutput {
  private readonly dir = mkdtempSync(join(tmpdir(), 'stixgate-out-'));
  private readonly path = join(this.dir, 'out');
  private fd: number | undefined = openSync(this.path, 'wx', 0o600);

  write(text: string): void {
    if (this.fd === undefined) throw new Error('output already committed or discarded');
    writeSync(this.fd, text);
  }

  async commit(out: NodeJS.WritableStream = process.stdout): Promise<void> {
    this.close();
    try {
      await pipeline(createReadStream(this.path), out, { end: false });
    } finally {
      this.discard();
    }
  }

  discard(): void {
    this.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
