/**
 * The supervisor's run at 1,000 and 10,000 sagas in flight, through the real Durable client
 * against the local engine's HTTP API (paged by 100 with continuation tokens) and the real
 * intake records on the Cosmos DB stand-in. The in-flight sagas report progress as the
 * delivery saga does and were created over the last hour, each with its open intake record,
 * marked started as the intake marks it; 2% are older than the quiet window, so the run lists
 * them and their intakes (and passes them over: the bench's stand-in orchestration is not the
 * delivery saga, which cannot be registered twice). Behind them lies a month of settled
 * history: half as many sagas again that died and were recovered, their intakes closed. Also
 * the old first step alone at 10,000, one listing of every unfinished saga, as the baseline of
 * what a run used to cost before it read anything per saga.
 */
import * as df from 'durable-functions';
import type { OrchestrationContext, Task } from 'durable-functions';
import diagnostics from 'node:diagnostics_channel';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InvocationContext } from '@azure/functions';
import { CosmosClient } from '@azure/cosmos';
import type { Container } from '@azure/cosmos';
import { forEachBounded } from '../../functions/resilience/retry';
import type { IntakeRecord } from '../../domain/delivery/ports';
import { CosmosIntakeRecords } from '../../functions/adapters/cosmos-agents';
import { DurableSagas } from '../../functions/adapters/durable-sagas';
import { COSMOS_CONTAINERS } from '../../functions/resources';
import { superviseOnce } from '../../functions/saga/supervisor';
import { benchStandInShapes } from './stand-in-shapes';
import type { SupervisorDeps } from '../../functions/saga/supervisor';
import {
  bindDurableClient,
  DurableEngine,
  startCosmosThread,
  startDurableHttpServer,
  VirtualClock,
} from '@fabrikam/functions-local';
import { provisionCosmos } from '../local/fabrikam';
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

const DAY = 24 * 60 * MIN;

interface Fleet {
  /** One supervisor run, in ms. */
  run(): Promise<number>;
  /** The HTTP requests (Durable client and Cosmos DB) each run so far sent. */
  readonly requests: number[];
  /** The old first step alone: one listing of every unfinished saga, in ms. */
  listing(): Promise<number>;
  close(): Promise<void>;
}

/** HTTP requests this process starts (runs are sequential, so a run's are the difference). */
const sent = { count: 0 };
const countSent = (): void => {
  sent.count++;
};

async function fleetOf(inFlight: number, intakes: Container): Promise<Fleet> {
  const requests: number[] = [];
  const now = Date.UTC(2026, 10, 22, 12);
  const clock = new VirtualClock(now - 30 * DAY);
  const engine = await DurableEngine.create({ clock });
  const server = await startDurableHttpServer(engine, { taskHubName: 'BenchSupervisor' });
  try {
    /** A saga created at `at`, reporting progress due four hours later, as the delivery saga does. */
    const startAt = async (instanceId: string, at: number): Promise<void> => {
      clock.setNow(at);
      const completeBy = new Date(at + 4 * 60 * MIN).toISOString();
      await engine.startNew(IN_FLIGHT, {
        instanceId,
        input: { stage: 'Scheduled', completeBy, finished: false, outbox: [] },
      });
    };
    const records: IntakeRecord[] = [];
    const record = (deliveryId: string, at: number, open: boolean): IntakeRecord => {
      const requestedAt = new Date(at).toISOString();
      return open
        ? { deliveryId, ownerId: 'bench', canonical: '{}', requestedAt, active: true, sagaStartedAt: requestedAt }
        : { deliveryId, ownerId: 'bench', canonical: '{}', requestedAt, active: false, outcome: 'Failed' };
    };
    // The settled month: sagas that died and were recovered, spread over the last 30 days.
    const settled = Math.floor(inFlight / 2);
    for (let i = 0; i < settled; i++) {
      const id = `sup-${inFlight}-dead-${i}`;
      await startAt(id, now - 30 * DAY + Math.floor(((i + 0.5) / settled) * 29 * DAY));
      await engine.terminate(id, 'died; recovered');
      records.push(record(id, clock.now(), false));
    }
    // The virtual clock only moves forward, so sagas are created in time order: the old 2%
    // (three hours ago) first, then the rest spread over the last hour.
    const ids = Array.from({ length: inFlight }, (_, i) => i);
    for (const i of [...ids.filter((i) => i % 50 === 0), ...ids.filter((i) => i % 50 !== 0)]) {
      const id = `sup-${inFlight}-${i}`;
      await startAt(id, i % 50 === 0 ? now - 3 * 60 * MIN : now - 60 * MIN + Math.floor((i / inFlight) * 60 * MIN));
      records.push(record(id, clock.now(), true));
    }
    clock.setNow(now);
    const store = new CosmosIntakeRecords(intakes);
    await forEachBounded(records, 10, async (r) => void (await store.createOrGet(r)));
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
      intakes: store,
      now: () => new Date(now),
      policy: { graceMs: GRACE, escalateAfterMs: 15 * MIN, pendingTooLongMs: 15 * MIN },
      retry: { attempts: 3, firstRetryMs: 1000, maxRetryMs: 60_000 },
      lookbackMs: 30 * 86_400_000,
      runningQuietMs: QUIET,
      log: () => undefined,
    };
    return {
      requests,
      run: async () => {
        const sentBefore = sent.count;
        const t = performance.now();
        await superviseOnce(deps);
        const ms = performance.now() - t;
        requests.push(sent.count - sentBefore);
        return ms;
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
  const cosmosDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fabrikam-bench-supervisor-'));
  const cosmos = await startCosmosThread({ dir: cosmosDir });
  const client = new CosmosClient({
    endpoint: cosmos.endpoint,
    key: cosmos.key,
    connectionPolicy: { enableEndpointDiscovery: false },
  });
  const fleets: Fleet[] = [];
  let a: { runMs: number; requests: number };
  let b: { runMs: number; listingMs: number; requests: number };
  try {
    // Each fleet's intake records in a database of their own, so neither run meets the other's.
    const intakesOf = async (n: number): Promise<Container> => {
      await provisionCosmos(client, `bench-supervisor-${n}`);
      return client.database(`bench-supervisor-${n}`).container(COSMOS_CONTAINERS.intakes.name);
    };
    fleets.push(await fleetOf(small, await intakesOf(small)));
    fleets.push(await fleetOf(large, await intakesOf(large)));
    const [fa, fb] = fleets as [Fleet, Fleet];
    // Warm both paths (connections, JIT) before the clock matters.
    await fa.run();
    await fb.run();
    diagnostics.subscribe('http.client.request.start', countSent);
    const side = await sideBySide(fa.run, fb.run, runs).finally(() =>
      diagnostics.unsubscribe('http.client.request.start', countSent),
    );
    const listings: number[] = [];
    for (let r = 0; r < Math.min(runs, 9); r++) listings.push(await fb.listing());
    a = { runMs: side.ours, requests: median(fa.requests) };
    b = { runMs: side.baseline, listingMs: median(listings), requests: median(fb.requests) };
  } finally {
    for (const f of fleets) await f.close();
    client.dispose();
    await cosmos.stop();
    fs.rmSync(cosmosDir, { recursive: true, force: true });
  }
  const shapes = await benchStandInShapes(opts);
  return [
    ...shapes,
    {
      metric: `scale: supervisor run at ${large.toLocaleString('en-US')} vs ${small.toLocaleString('en-US')} sagas in flight`,
      ours: b.runMs,
      baseline: a.runMs,
      ratio: b.runMs / a.runMs,
      target: '<= 3',
      unit: `ms per run (median of ${runs}, A/B interleaved), real Durable client over the local HTTP API`,
      note: `${Math.ceil(large / 50)} and ${Math.ceil(small / 50)} in-flight sagas are old enough to be listed (not due yet); running sagas are asked for only once older than the quiet window (assignment SLA + the longer of pickup and delivery, plus grace, less the start grace), intake and recovery read only when the verdict needs them; with every in-flight saga's open intake record and half as many settled deaths of the past month (closed intakes) on the Cosmos DB stand-in: dead sagas listed only while young, open intakes past the window listed, and a saga status read only for those whose saga was not listed; paged by 100 with x-ms-continuation-token. The stand-in has no index, so each of a run's three intake queries (old open ones, unmarked ones, stuck ones) reads every record: ${Math.floor(large * 1.5).toLocaleString('en-US')} against ${Math.floor(small * 1.5).toLocaleString('en-US')}; Azure Cosmos DB answers such filters from its range index, in proportion to what they return (the requests row below)`,
    },
    {
      metric: `scale: supervisor requests per run at ${large.toLocaleString('en-US')} vs ${small.toLocaleString('en-US')} sagas in flight`,
      ours: b.requests,
      baseline: a.requests,
      ratio: b.requests / a.requests,
      target: 'info',
      unit: 'HTTP requests per run (Durable client and Cosmos DB, median)',
      note: 'what a run costs a task hub and a Cosmos DB account: the listing pages and the intake queries, and no read per saga in flight or per settled death (counted through the http.client.request.start diagnostics channel)',
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
