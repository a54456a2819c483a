/**
 * Azurite (blob) for the local runtime: a child process on loopback with its data under the data
 * directory, that never outlives the runtime and never shares its data with a second Azurite.
 *
 * Why not standins.startAzurite: Azurite keeps blob metadata in LokiJS and saves it on a 5 s
 * timer and on a clean shutdown. A runtime killed with `kill -9` would leave its Azurite running
 * (orphaned, holding the data) or, killed with it, lose up to 5 s of blob metadata. Here a small
 * watchdog inside the child notices the parent is gone and shuts Azurite down cleanly (metadata
 * saved), and a restart waits for a previous Azurite on the same directory to finish first.
 * Telemetry is off: Azurite otherwise reports to Microsoft and waits for that on shutdown.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { azuriteConnectionString, AZURITE_ACCOUNT, freePort } from '../host/standins';
import type { AzuriteHandle } from '../host/standins';

const PID_FILE = 'azurite.pid';

/** Runs in the child before Azurite's own main: a clean shutdown once the parent is gone. */
const WATCHDOG = `
const parent = Number(process.env.FABRIKAM_RUNTIME_PID);
const timer = setInterval(() => {
  try { process.kill(parent, 0); } catch { clearInterval(timer); process.kill(process.pid, 'SIGTERM'); }
}, 250);
timer.unref();
require(process.argv[1]);
`;

/** Whether a process with this id exists (EPERM: it exists but is not ours). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A previous Azurite on this directory (its runtime was killed) is given time to save and exit. */
async function waitForPrevious(location: string, graceMs: number): Promise<void> {
  const file = path.join(location, PID_FILE);
  if (!fs.existsSync(file)) return;
  const pid = Number(fs.readFileSync(file, 'utf8'));
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return;
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(50);
  if (isAlive(pid)) {
    process.kill(pid, 'SIGTERM');
    await sleep(1000);
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
}

async function waitForPort(port: number, timeoutMs: number, exited: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const why = exited();
    if (why) throw new Error(why);
    const open = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listened on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await sleep(100);
  }
}

export async function startAzuriteProcess(opts: { location: string; port?: number }): Promise<AzuriteHandle> {
  fs.mkdirSync(opts.location, { recursive: true });
  await waitForPrevious(opts.location, 10_000);
  const port = opts.port ?? (await freePort());
  const main = path.join(
    path.dirname(createRequire(__filename).resolve('azurite/package.json')),
    'dist',
    'src',
    'blob',
    'main.js',
  );
  const args = [
    '--blobHost',
    '127.0.0.1',
    '--blobPort',
    String(port),
    '--skipApiVersionCheck',
    '--loose',
    '--silent',
    '--disableTelemetry',
    '--location',
    opts.location,
  ];
  // Its own log file: a pipe to a parent that died would break Azurite's writes mid-shutdown.
  const logFile = path.join(opts.location, 'azurite.log');
  const log = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, ['-e', WATCHDOG, main, ...args], {
    stdio: ['ignore', log, log],
    env: { ...process.env, FABRIKAM_RUNTIME_PID: String(process.pid) },
  });
  fs.closeSync(log);
  if (child.pid !== undefined) fs.writeFileSync(path.join(opts.location, PID_FILE), String(child.pid));
  try {
    await waitForPort(port, 30_000, () =>
      child.exitCode !== null ? `Azurite exited with code ${child.exitCode}` : undefined,
    );
  } catch (e) {
    child.kill('SIGKILL');
    const tail = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').slice(-2000) : '';
    throw new Error(`Azurite did not start: ${(e as Error).message}\n${tail}`);
  }
  const blobEndpoint = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
  return {
    blobEndpoint,
    connectionString: azuriteConnectionString(blobEndpoint),
    pid: child.pid,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      // Generous: a clean stop is what saves Azurite's metadata.
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      fs.rmSync(path.join(opts.location, PID_FILE), { force: true });
    },
  };
}
