/**
 * nginx as an in-run peer: the ceiling for serving a static file. Found on PATH, under
 * .cache/nginx (a Debian package unpacked without root), or fetched there with `apt-get download
 * nginx` + `dpkg -x`; when none of this works the caller reports a skipped row with the reason.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, dirname, basename } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const UNPACKED = join(ROOT, '.cache', 'nginx');

function works(bin: string): boolean {
  return spawnSync(bin, ['-v'], { encoding: 'utf8' }).status === 0;
}

/** The nginx binary, or why there is none. */
export function findNginx(): { bin: string } | { skip: string } {
  for (const bin of ['nginx', '/usr/sbin/nginx', join(UNPACKED, 'usr', 'sbin', 'nginx')])
    if ((bin === 'nginx' || existsSync(bin)) && works(bin)) return { bin };
  const debs = join(ROOT, '.cache', 'nginx-deb');
  mkdirSync(debs, { recursive: true });
  const dl = spawnSync('apt-get', ['download', 'nginx'], { cwd: debs, encoding: 'utf8' });
  const deb = readdirSync(debs).find((f) => /^nginx_.*\.deb$/.test(f));
  if (!deb)
    return {
      skip: `nginx is not installed and apt-get download nginx failed (${(dl.stderr || dl.error?.message || 'no package').trim().split('\n').pop()})`,
    };
  const x = spawnSync('dpkg', ['-x', join(debs, deb), UNPACKED], { encoding: 'utf8' });
  const bin = join(UNPACKED, 'usr', 'sbin', 'nginx');
  if (x.status !== 0 || !works(bin))
    return {
      skip: `nginx from ${deb} does not run here (${(x.stderr || spawnSync(bin, ['-v'], { encoding: 'utf8' }).stderr || '').trim().split('\n').pop()})`,
    };
  return { bin };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/**
 * Serves `file` at http://127.0.0.1:<port>/<name> with one worker process (as the daemon is one
 * process), access log off, nginx's own ETag and Last-Modified.
 */
export async function startNginx(
  bin: string,
  file: string,
  workDir: string,
): Promise<{ url: string; stop: () => void; proc: ChildProcess }> {
  const port = await freePort();
  // started as root, nginx's worker runs as nobody: it must be able to read the file (temporary directories are 0700)
  for (let d = dirname(file); d.startsWith(dirname(workDir)); d = dirname(d)) chmodSync(d, 0o755);
  chmodSync(file, 0o644);
  mkdirSync(join(workDir, 'logs'), { recursive: true });
  const conf = join(workDir, 'nginx.conf');
  writeFileSync(
    conf,
    `worker_processes 1;
pid ${join(workDir, 'nginx.pid')};
error_log ${join(workDir, 'logs', 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${workDir}/body;
  proxy_temp_path ${workDir}/proxy;
  fastcgi_temp_path ${workDir}/fastcgi;
  uwsgi_temp_path ${workDir}/uwsgi;
  scgi_temp_path ${workDir}/scgi;
  keepalive_requests 1000000;
  sendfile on;
  etag on;
  default_type text/plain;
  server {
    listen 127.0.0.1:${port};
    root ${dirname(file)};
  }
}
`,
  );
  const proc = spawn(bin, ['-p', workDir, '-c', conf, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const url = `http://127.0.0.1:${port}/${basename(file)}`;
  // wait until it answers (bounded)
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(url, { method: 'HEAD' });
      if (r.status === 200) break;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url, proc, stop: () => proc.kill('SIGTERM') };
}
