/**
 * Runs the local runtime as a user does: `node dist-tools/tools/local/start.js` in a child process,
 * after one build per test run. Finds the base URL in what it prints, keeps its output for
 * failure messages, and always ends it (SIGKILL as the last resort).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { buildAll, ROOT, toolEntry } from '../../support/build';

export { ROOT };
const START = toolEntry('local', 'start.js');
const APP = path.join(ROOT, 'dist', 'functions', 'index.js');

/** Builds as `npm run build` does (test/support/build.ts); only a missing output fails. */
export function buildOnce(): void {
  // The global setup builds once per run before any worker starts; parallel files must not
  // rebuild dist/ under each other's running runtimes.
  if (process.env.TEST_APP_BUILT === '1') {
    for (const f of [START, APP]) if (!fs.existsSync(f)) throw new Error(`The build produced no ${f}.`);
    return;
  }
  buildAll();
  for (const f of [START, APP]) if (!fs.existsSync(f)) throw new Error(`The build produced no ${f}.`);
}

export interface RuntimeProcess {
  readonly url: string;
  readonly child: ChildProcess;
  output(): string;
  /** Sends the signal and waits for the exit; resolves the exit code (null when killed by a signal). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const live = new Set<ChildProcess>();

/** Ends every runtime still running; for afterAll and failures. */
export async function killAll(): Promise<void> {
  await Promise.all(
    [...live].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGKILL');
        }),
    ),
  );
  live.clear();
}

export async function startRuntime(
  dataDir: string,
  args: readonly string[] = [],
  env: Record<string, string> = {},
  // Ready takes ~10 s here when the machine is quiet; a loaded 2-core CI machine has taken 30.
  timeoutMs = 60_000,
): Promise<RuntimeProcess> {
  const child = spawn(
    process.execPath,
    ['--enable-source-maps', START, '--data-dir', dataDir, '--port', '0', ...args],
    {
      // Beside the data directory: a local.settings.json of the developer's must not change what the tests see.
      cwd: path.dirname(path.resolve(dataDir)),
      env: { ...process.env, PORT: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  live.add(child);
  child.once('exit', () => live.delete(child));
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`The runtime printed no URL within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const check = (): void => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1] && /Ready in/.test(out)) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`The runtime exited (${code ?? signal}) before it was ready:\n${out}`));
    });
  });
  return {
    url,
    child,
    output: () => out,
    stop: (signal = 'SIGTERM') =>
      new Promise<number | null>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill(signal);
      }),
  };
}

export interface RuntimeInfo {
  readonly endpoints: {
    readonly cosmos: { readonly endpoint: string; readonly key: string; readonly database: string };
    readonly blob: { readonly endpoint: string; readonly connectionString: string };
    readonly lake: { readonly url: string; readonly fileSystem: string };
  };
}

export function runtimeInfo(dataDir: string): RuntimeInfo {
  return JSON.parse(fs.readFileSync(path.join(dataDir, 'runtime.json'), 'utf8')) as RuntimeInfo;
}
