/**
 * Top self-time entries of the .cpuprofile files in a directory (one per thread), as a Markdown
 * table per file: function, location, self time and its share of the thread's samples.
 *   node --import tsx bench/cpu-top.ts DIR [N]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { must } from '../test/helpers/must.js';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
}

const [dir, nArg] = process.argv.slice(2);
const top = Number(nArg ?? 5);
const root = process.cwd();
for (const f of readdirSync(must(dir, 'dir'))
  .filter((x) => x.endsWith('.cpuprofile'))
  .sort()) {
  const p = JSON.parse(readFileSync(join(must(dir, 'dir'), f), 'utf8')) as Profile;
  const total = p.samples.length;
  const secs = (p.endTime - p.startTime) / 1e6;
  const self = new Map<string, number>();
  for (const node of p.nodes) {
    const c = node.callFrame;
    const where = c.url
      ? `${relative(root, c.url.replace(/^file:\/\//, '')).replace(/^node_modules\//, '')}:${c.lineNumber + 1}`
      : '';
    const key = `${c.functionName || '(anonymous)'}\t${where}`;
    self.set(key, (self.get(key) ?? 0) + (node.hitCount ?? 0));
  }
  const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, top);
  process.stdout.write(
    `\n${f}: ${total} samples over ${secs.toFixed(1)} s\n\n| self | share | function | location |\n|---|---|---|---|\n`,
  );
  for (const [key, hits] of rows) {
    const [fn, where] = key.split('\t');
    process.stdout.write(
      `| ${((hits / total) * secs).toFixed(2)} s | ${((hits / total) * 100).toFixed(1)}% | ${fn} | ${where} |\n`,
    );
  }
}
