/**
 * The supervisor's run at 1,000 and 10,000 sagas in flight, through the real Durable client
 * against the local engine's HTTP API (paged by 100 with continuation tokens). The in-flight
 * sagas report progress as the delivery saga does and were created over the last hour; 2% are
 * older than the quiet window, so the run lists them (and passes them over: the bench's stand-in
 * orchestration is not the delivery saga, which cannot be registered twice). Also the old
 * first step alone at 10,000, one listing of every unfinished saga, as the baseline of what a
 * run used to cost before it read anything per saga.
 */
import * as df from 'durable-functions';
import type { OrchestrationContext, Task } from 'durable-functions';
import { InvocationContext } from '@azure/functions';
import type { IntakeRecords } from '../../domain/delivery/ports';
import { DurableSagas } from '../../functions/adapters/durable-sagas';
import { superviseOnce } from '../../functions/saga/supervisor';
import type { SupervisorDeps } from '../../functions/saga/supervisor';
import { bindDurableClient, DurableEngine, startDurableHttpServer, VirtualClock } from '@fabrikam/functions-local';
import { benchApp } from './app';
import { median, sideBySide } from './harness';
import type { Row } from './harness';

const MIN = 60_000;
const QUIET = 130 * MIN;
const GRACE = 5 * MIN;
const IN_FLIGHT = 'benchInFlightSaga';

let registered = false;
function register(): void {
  if (registered) return;
  registered = true;
  // Registrations reach the engine through the functions-core seam the app's loading installs.
  benchApp();
  df.app.orchestration(IN_FLIGHT, function* (context: OrchestrationContext): Generator<Task, unknown, unknown> {
    context.df.setCustomStatus(context.df.getInput());
    yield context.df.waitForExternalEvent('Never');
    return undefined;
  });
}

const noIntakes = {
  get: async () => undefined,
  listActive: async () => [],
  listStuck: async () => [],
} as unknown as IntakeRecords;

interface Fleet {
  /** One supervisor run, in ms. */
  run(): Promise<number>;
  /** The old first step alone: one listing of every unfinished saga, in ms. */
  listing(): Promise<number>;
  close(): Promise<void>;
}

async function fleetOf(inFlight: number): Promise<Fleet> {
  const now = Date.UTC(2026, 10, 22, 12);
  const clock = new VirtualClock(now - 3 * 60 * MIN);
  const engine = await DurableEngine.create({ clock });
  const server = await startDurableHttpServer(engine, { taskHubName: 'BenchSupervisor' });
  try {
    for (let i = 0; i < inFlight; i++) {
      const old = i % 50 === 0;
      // Old ones first (three hours ago), the rest spread over the last hour.
      clock.setNow(old ? now - 3 * 60 * MIN : now - 60 * MIN + Math.floor((i / inFlight) * 60 * MIN));
      const completeBy = new Date(clock.now() + 4 * 60 * MIN).toISOString();
      await engine.startNew(IN_FLIGHT, {
        instanceId: `sup-${inFlight}-${i}`,
        input: { stage: 'Scheduled', completeBy, finished: false, outbox: [] },
      });
    }
    clock.setNow(now);
    await engine.idle();
    const context = new InvocationContext({
      functionName: 'benchSupervisor',
      options: { trigger: { name: 't', type: 'timerTrigger' }, extraInputs: [df.input.durableClient()] },
      logHandler: () => undefined,
    });
    bindDurableClient(context, server.clientBindingData());
    const client = df.getClient(context);
    const deps: SupervisorDeps = {
      sagas: new DurableSagas(client),
      intakes: noIntakes,
      now: () => new Date(now),
      policy: { graceMs: GRACE, escalateAfterMs: 15 * MIN, pendingTooLongMs: 15 * MIN },
      retry: { attempts: 3, firstRetryMs: 1000, maxRetryMs: 60_000 },
      lookbackMs: 30 * 86_400_000,
      runningQuietMs: QUIET,
      log: () => undefined,
    };
    return {
      run: async () => {
        const t = performance.now();
        await superviseOnce(deps);
        return performance.now() - t;
      },
      listing: async () => {
        const t = performance.now();
        await client.getStatusBy({
          runtimeStatus: ['Pending', 'Running', 'Failed', 'Terminated', 'Suspended'] as never[],
          createdTimeFrom: new Date(now - 30 * 86_400_000),
        });
        return performance.now() - t;
      },
      close: async () => {
        await server.close();
        await engine.close();
      },
    };
  } catch (e) {
    await server.close();
    await engine.close();
    throw e;
  }
}

export async function benchSupervisor(opts: { quick: boolean }): Promise<Row[]> {
  register();
  const [small, large] = opts.quick ? [100, 1000] : [1000, 10_000];
  // Runs take milliseconds, so many of them, A/B interleaved, both fleets set up side by side.
  const runs = opts.quick ? 3 : 41;
  const fleets = [await fleetOf(small)];
  let a: { runMs: number };
  let b: { runMs: number; listingMs: number };
  try {
    fleets.push(await fleetOf(large));
    const [fa, fb] = fleets as [Fleet, Fleet];
    // Warm both paths (connections, JIT) before the clock matters.
    await fa.run();
    await fb.run();
    const side = await sideBySide(fa.run, fb.run, runs);
    const listings: number[] = [];
    for (let r = 0; r < Math.min(runs, 9); r++) listings.push(await fb.listing());
    a = { runMs: side.ours };
    b = { runMs: side.baseline, listingMs: median(listings) };
  } finally {
    for (const f of fleets) await f.close();
  }
  return [
    {
      metric: `scale: supervisor run at ${large.toLocaleString('en-US')} vs ${small.toLocaleString('en-US')} sagas in flight`,
      ours: b.runMs,
      baseline: a.runMs,
      ratio: b.runMs / a.runMs,
      target: '<= 3',
      unit: `ms per run (median of ${runs}, A/B interleaved), real Durable client over the local HTTP API`,
      note: `${Math.ceil(large / 50)} and ${Math.ceil(small / 50)} in-flight sagas are old enough to be listed (not due yet); running sagas are asked for only once older than the quiet window (assignment SLA + the longer of pickup and delivery, plus grace, less the start grace), intake and recovery read only when the verdict needs them; paged by 100 with x-ms-continuation-token`,
    },
    {
      metric: `supervisor run vs listing every unfinished saga, at ${large.toLocaleString('en-US')}`,
      ours: b.runMs,
      baseline: b.listingMs,
      ratio: b.runMs / b.listingMs,
      target: 'info',
      unit: 'ms',
      note: 'the baseline is only the first step of the previous run (one getStatusBy of every unfinished saga, 100 pages); it then read an intake and a recovery status per saga, 2 requests each',
    },
  ];
}
