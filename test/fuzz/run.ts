/**
 * `npm run fuzz`: the long mode of the mapper fuzz suite. Every target runs until
 * STIXGATE_FUZZ_RUNS cases (default 2,000) or STIXGATE_FUZZ_SECONDS per target (default 60),
 * whichever comes first, from STIXGATE_FUZZ_SEED (default: the time, printed for replay).
 * STIXGATE_FUZZ_TARGETS=stix1,otx narrows the set. Prints one line per target and exits 1 when
 * an invariant broke (with the replay seed and path, and the input).
 */
import { fuzzTarget, type FuzzStats } from './fuzz.js';
import { targets } from './targets.js';

const runs = Number(process.env.STIXGATE_FUZZ_RUNS ?? 2000);
const seconds = Number(process.env.STIXGATE_FUZZ_SECONDS ?? 60);
const seed = Number(process.env.STIXGATE_FUZZ_SEED ?? Date.now() % 2 ** 31);
const only = process.env.STIXGATE_FUZZ_TARGETS?.split(',')
  .map((s) => s.trim())
  .filter(Boolean);

console.log(`fuzz: seed ${seed}, up to ${runs} cases or ${seconds} s per target`);
const rows: FuzzStats[] = [];
for (const t of targets()) {
  if (only && !only.includes(t.name)) continue;
  const s = await fuzzTarget(t, { seed, numRuns: runs, timeLimitMs: seconds * 1000 });
  rows.push(s);
  const errors =
    Object.entries(s.errors)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ') || '-';
  console.log(
    `${t.name.padEnd(22)} cases ${String(s.runs).padStart(7)}  objects ${String(s.objects).padStart(9)}  rejections ${String(s.rejections).padStart(8)}  ` +
      `max input ${String(s.maxInputBytes).padStart(8)} B  slowest ${s.maxCaseMs.toFixed(0).padStart(5)} ms  documents rejected: ${errors}${s.failure ? '  FAILED' : ''}`,
  );
  if (s.failure)
    console.log(
      `  ${s.failure.message}\n  replay: STIXGATE_FUZZ_SEED=${s.failure.seed} (path ${s.failure.path})\n  input: ${JSON.stringify(s.failure.input.slice(0, 1000))}`,
    );
}
const total = rows.reduce((n, r) => n + r.runs, 0);
const failed = rows.filter((r) => r.failure).length;
console.log(`total: ${total} cases over ${rows.length} targets, ${failed} failing`);
process.exitCode = failed ? 1 : 0;
