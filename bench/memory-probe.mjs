/**
 * Loaded with `--import` into a benchmarked process (and, through the inherited execArgv, into its
 * worker threads): samples the thread's V8 heap every 200 ms and, at exit, writes the peaks as one
 * JSON line to `$STIXGATE_MEMORY_PROBE.<thread>` (the main thread adds the process's peak RSS).
 */
import { writeFileSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import { isMainThread, threadId } from 'node:worker_threads';

const out = process.env.STIXGATE_MEMORY_PROBE;
if (out) {
  const peak = { heapUsedMb: 0, externalMb: 0, arrayBuffersMb: 0, rssMb: 0 };
  const mb = (b) => Math.round(b / 1048576);
  const sample = () => {
    const h = getHeapStatistics();
    peak.heapUsedMb = Math.max(peak.heapUsedMb, mb(h.used_heap_size));
    peak.externalMb = Math.max(peak.externalMb, mb(h.external_memory));
    // array buffers are counted per thread (the writer's key tables are its own); RSS is the process's
    const m = process.memoryUsage();
    peak.arrayBuffersMb = Math.max(peak.arrayBuffersMb, mb(m.arrayBuffers));
    if (isMainThread) peak.rssMb = Math.max(peak.rssMb, mb(m.rss));
  };
  const write = () => {
    sample();
    const extra = isMainThread ? { maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024) } : {};
    writeFileSync(
      `${out}.${isMainThread ? 'main' : `worker${threadId}`}`,
      `${JSON.stringify({ ...peak, ...extra })}\n`,
    );
  };
  // a worker may be terminated without an exit event: it writes its peaks at every sample
  setInterval(isMainThread ? sample : write, 200).unref();
  process.on('exit', write);
}
