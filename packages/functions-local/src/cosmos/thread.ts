/**
 * The durable Cosmos DB stand-in (wal.ts) on a worker thread of its own, so that serving the
 * app's Cosmos requests (parsing, querying, the write-ahead log's synchronous writes) runs on
 * another core than the app, the host and the local hubs. Clients see no difference: the
 * stand-in was only ever reached over HTTP on loopback, and its durability model is unchanged
 * (the worker writes each log line before its response leaves). A `kill -9` ends the thread
 * with the process, as it ended the in-process server.
 *
 * A worker needs a JavaScript entry: from the built package (dist/, what `npm start` and the
 * benchmarks load) the stand-in runs on its thread; loaded from the TypeScript sources (the test
 * suite) it runs in-process, the same server and log either way.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { startCpuProfile } from '../core/cpu-profiler';
import { startDurableCosmos } from './wal';
import type { DurableCosmosHandle, DurableCosmosOptions } from './wal';

type FromWorker =
  | { readonly kind: 'started'; readonly handle: Omit<DurableCosmosHandle, 'stop'> }
  | { readonly kind: 'failed'; readonly message: string }
  | { readonly kind: 'stopped' }
  | { readonly kind: 'profiling' }
  | { readonly kind: 'profile'; readonly profile: object };

type ToWorker =
  | { readonly kind: 'stop' }
  | { readonly kind: 'profile-start'; readonly intervalMicros: number }
  | { readonly kind: 'profile-stop' };

/** V8's CPU profiler on the stand-in's own thread (a benchmark's view of what serving costs). */
export interface StandInProfiler {
  start(intervalMicros: number): Promise<void>;
  /** The profile since `start`, as `Profiler.stop` returns it. */
  stop(): Promise<object>;
}

export interface ThreadedCosmosHandle extends DurableCosmosHandle {
  /** Where it runs: 'thread' on a worker thread, 'in-process' on the caller's event loop. */
  readonly runsOn: 'thread' | 'in-process';
  /** Present on a thread; in-process the caller's own profile already holds the stand-in. */
  readonly profiler?: StandInProfiler;
}

/** The worker's entry, when this very module is built JavaScript. */
function workerEntry(): string | undefined {
  return __filename.endsWith('.js') && fs.existsSync(__filename) ? __filename : undefined;
}

/**
 * Starts the durable stand-in on a worker thread when it can (see the header), else in-process.
 * `onCrash` hears of a thread that ended without being stopped.
 */
export async function startCosmosThread(
  options: DurableCosmosOptions,
  onCrash: (error: Error) => void = () => undefined,
): Promise<ThreadedCosmosHandle> {
  const entry = workerEntry();
  if (!entry) return { ...(await startDurableCosmos(options)), runsOn: 'in-process' };
  const worker = new Worker(entry, { workerData: { fabrikamCosmosStandIn: options } });
  let stopping = false;
  const started = await new Promise<Omit<DurableCosmosHandle, 'stop'>>((resolve, reject) => {
    const onExit = (code: number): void =>
      reject(new Error(`the Cosmos DB stand-in's thread exited with code ${code} while starting`));
    worker.once('error', reject);
    worker.once('exit', onExit);
    worker.once('message', (m: FromWorker) => {
      worker.off('error', reject);
      worker.off('exit', onExit);
      if (m.kind === 'started') resolve(m.handle);
      else reject(new Error(m.kind === 'failed' ? m.message : 'the Cosmos DB stand-in stopped while starting'));
    });
  }).catch(async (e: unknown) => {
    await worker.terminate();
    throw e;
  });
  worker.on('error', (e) => onCrash(e));
  worker.on('exit', (code) => {
    if (!stopping) onCrash(new Error(`the Cosmos DB stand-in's thread exited with code ${code}`));
  });
  const reply = <K extends FromWorker['kind']>(kind: K): Promise<Extract<FromWorker, { kind: K }>> =>
    new Promise((resolve) => {
      const on = (m: FromWorker): void => {
        if (m.kind !== kind) return;
        worker.off('message', on);
        resolve(m as Extract<FromWorker, { kind: K }>);
      };
      worker.on('message', on);
    });
  return {
    ...started,
    runsOn: 'thread',
    profiler: {
      start: async (intervalMicros) => {
        const ready = reply('profiling');
        worker.postMessage({ kind: 'profile-start', intervalMicros } satisfies ToWorker);
        await ready;
      },
      stop: async () => {
        const done = reply('profile');
        worker.postMessage({ kind: 'profile-stop' } satisfies ToWorker);
        return (await done).profile;
      },
    },
    stop: async () => {
      if (stopping) return;
      stopping = true;
      const stopped = new Promise<void>((resolve) => {
        worker.on('message', (m: FromWorker) => m.kind === 'stopped' && resolve());
        worker.once('exit', () => resolve());
      });
      worker.postMessage({ kind: 'stop' } satisfies ToWorker);
      await stopped;
      await worker.terminate();
    },
  };
}

/** On the worker: start the stand-in, report, and stop it (closing its log) when told to. */
async function serveOnThisThread(options: DurableCosmosOptions): Promise<void> {
  const port = parentPort;
  if (!port) return;
  let handle: DurableCosmosHandle;
  try {
    handle = await startDurableCosmos(options);
  } catch (e) {
    port.postMessage({ kind: 'failed', message: (e as Error).message } satisfies FromWorker);
    return;
  }
  const { stop, ...rest } = handle;
  port.postMessage({ kind: 'started', handle: rest } satisfies FromWorker);
  let stopProfile: (() => Promise<object>) | undefined;
  port.on('message', (m: ToWorker) => {
    if (m.kind === 'profile-start' && !stopProfile) {
      void startCpuProfile(m.intervalMicros).then((stop) => {
        stopProfile = stop;
        port.postMessage({ kind: 'profiling' } satisfies FromWorker);
      });
    } else if (m.kind === 'profile-stop' && stopProfile) {
      const stop = stopProfile;
      stopProfile = undefined;
      void stop().then((profile) => port.postMessage({ kind: 'profile', profile } satisfies FromWorker));
    } else if (m.kind === 'stop') {
      void stop().finally(() => {
        port.postMessage({ kind: 'stopped' } satisfies FromWorker);
        port.close();
      });
    }
  });
}

const mine = (workerData as { fabrikamCosmosStandIn?: DurableCosmosOptions } | null)?.fabrikamCosmosStandIn;
if (!isMainThread && mine) void serveOnThisThread({ ...mine, dir: path.resolve(mine.dir) });
