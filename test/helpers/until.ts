import type { ChildProcess } from 'node:child_process';

/**
 * Hang guards for end-to-end and integration tests: they poll a condition that is an event of the
 * system under test (a value served, a file written, a request counted), never a duration, and
 * throw naming `what` when it has not happened after `ms`. The limit decides nothing but how long
 * a broken run hangs, so it is generous.
 */
export interface UntilOptions {
  /** How long a broken run may hang before it fails (default 60 s). */
  ms?: number;
  /** Pause between two polls (default 100 ms). */
  every?: number;
  /** Checked before each pause: a message fails the wait at once (a child process that exited). */
  gone?: () => string | undefined;
}

/**
 * Polls `fn` until it returns a value other than `undefined` and returns that value. A poll that
 * throws counts as "not yet" (a server still starting); the last error is named if time runs out.
 */
export async function untilValue<T>(
  what: string,
  fn: () => T | undefined | Promise<T | undefined>,
  opts: UntilOptions = {},
): Promise<T> {
  const { ms = 60_000, every = 100, gone } = opts;
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    const why = gone?.();
    if (why !== undefined) throw new Error(`gave up waiting for: ${what}: ${why}`);
    if (Date.now() > end) {
      const cause =
        last === undefined ? '' : ` (last poll failed: ${last instanceof Error ? last.message : String(last)})`;
      throw new Error(`timed out waiting for: ${what}${cause}`);
    }
    await new Promise((r) => setTimeout(r, every));
  }
}

/** Polls `fn` until it holds; an error thrown by `fn` fails the wait at once. */
export async function until(what: string, fn: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  let failed: { e: unknown } | undefined;
  await untilValue(
    what,
    async () => {
      try {
        return (await fn()) ? true : undefined;
      } catch (e) {
        failed = { e };
        return true;
      }
    },
    { ms },
  );
  if (failed) throw failed.e;
}

/** A `gone` check for `untilValue`: names the first of `children` that has exited, with `log()`. */
export function anyExited(children: readonly ChildProcess[], log: () => string): () => string | undefined {
  return () => {
    const c = children.find((x) => x.exitCode !== null || x.signalCode !== null);
    return c ? `a process exited (${c.exitCode ?? c.signalCode}):\n${log()}` : undefined;
  };
}
