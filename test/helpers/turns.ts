/**
 * Counts the event-loop turns (setImmediate callbacks, one per check phase) that run while `p`
 * is pending: 0 means `p` kept the loop from turning from start to end.
 */
export async function turnsDuring<T>(p: () => Promise<T>): Promise<{ value: T; turns: number }> {
  let turns = 0;
  let done = false;
  const tick = () => {
    if (done) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  const value = await p();
  done = true;
  return { value, turns };
}
