import { errorMessage } from './core/errors.js';
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { configOpt, dataDirOpt, EXIT_CONFIG, loadForCommand, orFail, positiveInt, reachableUrl } from './cli-common.js';
import { DAEMON_FILE, processAlive, readDaemonFile, type DaemonFile } from './daemon-file.js';

/** The data directory a command shares with the daemon: --data-dir, else the configuration's. */
function dataDirOf(opts: { config?: string; dataDir?: string }): string {
  return resolve(opts.dataDir ?? loadForCommand(opts).config.data_dir);
}

function runningDaemon(dataDir: string): DaemonFile {
  const d = readDaemonFile(dataDir);
  if (!d) throw new Error(`no daemon is running with data directory ${dataDir} (no ${DAEMON_FILE} there)`);
  if (!processAlive(d.pid))
    throw new Error(`the daemon recorded in ${resolve(dataDir, DAEMON_FILE)} (pid ${d.pid}) is not running`);
  return d;
}

/** `health` (the container health check) and `reload` (SIGHUP to the running daemon). */
export function addDaemonCommands(program: Command): void {
  program
    .command('health')
    .description(
      "exit 0 when the running daemon answers /healthz on the address it listens on (the container's health check)",
    )
    .addOption(configOpt())
    .addOption(dataDirOpt())
    .option('--timeout-secs <n>', 'give up after this many seconds', (v) => positiveInt('--timeout-secs', v), 5)
    .action(async (opts) => {
      let url: string;
      try {
        url = `${reachableUrl(runningDaemon(dataDirOf(opts)).url)}/healthz`;
      } catch (e) {
        process.stderr.write(`stixgate: ${errorMessage(e)}\n`);
        process.exit(1);
      }
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(opts.timeoutSecs * 1000) });
        process.stdout.write(`${url}: ${res.status}\n`);
        process.exit(res.ok ? 0 : 1);
      } catch (e) {
        process.stderr.write(`stixgate: ${url}: ${errorMessage(e)}\n`);
        process.exit(1);
      }
    });

  program
    .command('reload')
    .description(
      'make the running daemon re-read its configuration (SIGHUP to the pid in <data_dir>/daemon.json) and print the outcome',
    )
    .addOption(configOpt())
    .addOption(dataDirOpt())
    .option('--timeout-secs <n>', 'wait this long for the outcome', (v) => positiveInt('--timeout-secs', v), 60)
    .action(
      orFail(async (opts) => {
        const dataDir = dataDirOf(opts);
        const before = runningDaemon(dataDir);
        const seq = before.reload?.seq ?? 0;
        process.kill(before.pid, 'SIGHUP');
        const deadline = Date.now() + opts.timeoutSecs * 1000;
        for (;;) {
          const now = readDaemonFile(dataDir);
          if (now?.reload && now.pid === before.pid && now.reload.seq > seq) {
            if (now.reload.ok) {
              process.stdout.write(`pid ${now.pid}: ${now.reload.message}\n`);
              return;
            }
            process.stderr.write(`stixgate: pid ${now.pid} kept its running configuration: ${now.reload.message}\n`);
            process.exit(EXIT_CONFIG);
          }
          if (!processAlive(before.pid)) throw new Error(`the daemon (pid ${before.pid}) exited during the reload`);
          if (Date.now() > deadline)
            throw new Error(`pid ${before.pid} was signalled but reported no outcome within ${opts.timeoutSecs}s`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }),
    );
}
