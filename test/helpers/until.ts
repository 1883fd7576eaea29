/**
 * Polls `fn` every 100 ms until it holds, and throws naming `what` after `ms`. A hang guard for
 * end-to-end tests only: the condition is an event of the system under test, never a duration.
 */
export async function until(what: string, fn: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
