/**
 * A whole saga world for specifications: the real app's functions (intake, cancel, saga,
 * agents, ingestion, supervisor) on the Durable engine with a virtual clock, agents on the
 * Cosmos DB stand-in, delivery events captured from the publisher, and faults injectable per
 * activity. Everything goes through the registered handlers, as the host would call them.
 */
import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { Composition } from '../../functions/composition';
import type { AppConfig } from '../../functions/config';
import { DurableSagas } from '../../functions/adapters/durable-sagas';
import { superviseOnce, supervisorDeps } from '../../functions/saga/supervisor';
import type { SupervisorReport } from '../../functions/saga/supervisor';
import type { DeliveryEvent } from '../../domain/delivery/events';
import type { SagaProgress } from '../../domain/delivery/saga';
import { principalHeaders } from '../../functions/http/identity';
import { FUNCTIONS, ORCHESTRATIONS } from '../../functions/names';
import { COSMOS_CONTAINERS } from '../../functions/resources';
import type { Caller } from '../../domain/shared/caller';
import type { Telemetry } from '../../domain/telemetry/schema';
import { createInvocationContext, silentLogger } from '../../packages/functions-local/src/host/invocation';
import {
  DurableEngine,
  MemoryInstanceStore,
  VirtualClock,
  bindDurableClient,
  startDurableHttpServer,
} from '../../packages/functions-local/src/durable';
import type {
  DurableEngineOptions,
  DurableHttpServer,
  InstanceRecord,
  InstanceStatus,
  InstanceStore,
} from '../../packages/functions-local/src/durable';
import { callHttp, loadFunctionApp } from './app';
import type { HttpResult } from './app';
import { useEmulators } from './emulators';
import type { TestEnvironment } from './emulators';
import { hostBatch } from './eventhub';
import { telemetry } from './telemetry';
import type { EventPublisher, OutgoingEvent } from '../../domain/shared/ports';

export class RecordingComposition extends Composition {
  readonly published: DeliveryEvent[] = [];
  /** `clock`: a world's virtual clock, by which instance-local caches age instead of by the machine's speed. */
  constructor(
    config: AppConfig,
    private readonly clock?: () => number,
  ) {
    super(config);
  }

  override wallClock(): number {
    return this.clock ? this.clock() : super.wallClock();
  }
  override readonly publisher = (): EventPublisher => ({
    publish: async (_hub: string, events: readonly OutgoingEvent[]) => {
      for (const e of events) this.published.push(e.body as DeliveryEvent);
    },
    close: async () => undefined,
  });
}

export const START = new Date('2026-11-22T10:00:00.000Z');
export const SEATTLE = { lat: 47.6062, lon: -122.3321 };

export interface SagaWorld {
  readonly env: TestEnvironment & { composition: RecordingComposition };
  /** The engine running now (a restart replaces it). */
  readonly engine: DurableEngine;
  /** The engine's store, which outlives a crash. */
  readonly store: CrashingStore;
  /**
   * Kills the engine process at once (nothing more is written or started; activities already
   * running finish, their results unheard) and starts a new one on what the store kept.
   */
  restart(): Promise<void>;
  readonly clock: VirtualClock;
  /** Activity name → failures still to inject (Infinity: every attempt fails). */
  readonly faults: Map<string, number>;
  readonly activityCalls: string[];
  post(body: unknown, caller: Caller): Promise<HttpResult>;
  cancel(deliveryId: string, caller: Caller): Promise<HttpResult>;
  registerDrone(droneId: string, at?: { lat: number; lon: number }, overrides?: Partial<Telemetry>): Promise<void>;
  /** Sends telemetry through the ingestion function (milestones reach the saga from there). */
  fly(droneId: string, overrides: Partial<Telemetry>): Promise<void>;
  /** Several reports of one drone in one Event Hubs batch, as the host may deliver them. */
  flyBatch(droneId: string, reports: readonly Partial<Telemetry>[]): Promise<void>;
  /** Raises an external event on an instance directly. */
  raise(instanceId: string, name: string, data: unknown): Promise<void>;
  /** Telemetry from the drone the delivery's saga assigned (only its milestones count). */
  flyAssigned(deliveryId: string, overrides: Partial<Telemetry>): Promise<void>;
  /** Lets the engine finish everything it can without moving the clock. */
  settle(): Promise<void>;
  status(deliveryId: string): Promise<InstanceStatus | undefined>;
  progress(deliveryId: string): Promise<SagaProgress | undefined>;
  events(deliveryId: string): DeliveryEvent[];
  /** One supervisor run through the durable client, at `now` (default: the engine's clock). */
  supervise(now?: Date): Promise<SupervisorReport>;
  /** As `supervise`, handing the supervisor's log entries to `log`. */
  superviseLogged(log: (entry: Record<string, unknown>) => void, now?: Date): Promise<SupervisorReport>;
  close(): Promise<void>;
}

/**
 * A store that can be set to die: after `armCrash(n)`, the n-th next save is the first that
 * never happens, and the process is killed at that moment (`onCrash`).
 */
export class CrashingStore implements InstanceStore {
  #left: number | undefined;
  crashed = false;
  onCrash: () => void = () => undefined;

  constructor(readonly inner: InstanceStore) {}

  armCrash(saves: number): void {
    this.#left = saves;
    this.crashed = false;
  }

  disarm(): void {
    this.#left = undefined;
    this.crashed = false;
  }

  async save(record: InstanceRecord): Promise<void> {
    if (this.crashed) return;
    if (this.#left !== undefined && --this.#left < 0) {
      this.crashed = true;
      this.onCrash();
      return;
    }
    await this.inner.save(record);
  }

  load(instanceId: string): Promise<InstanceRecord | undefined> {
    return this.inner.load(instanceId);
  }

  delete(instanceId: string): Promise<boolean> {
    return this.inner.delete(instanceId);
  }

  loadAll(): Promise<InstanceRecord[]> {
    return this.inner.loadAll();
  }
}

let worldCount = 0;

/** How the engine hands queued events over: the saga's specifications run in both. */
export const EVENT_DELIVERY_MODES = ['batch', 'single'] as const;

export type WorldEngineOptions = Pick<DurableEngineOptions, 'eventDelivery' | 'loseResult'>;

export async function useSagaWorld(
  label: string,
  settings: Record<string, string> = {},
  engineOptions: WorldEngineOptions = {},
): Promise<SagaWorld> {
  const registry = await loadFunctionApp();
  const clock = new VirtualClock(START);
  const env = await useEmulators(
    `${label}${worldCount++}`,
    {
      SagaStepAttempts: '3',
      SagaStepFirstRetryMs: '1000',
      AssignmentSlaMinutes: '2',
      AssignmentRetrySeconds: '30',
      PickupSlaMinutes: '30',
      DeliverySlaMinutes: '120',
      SagaMaxInFlight: '1000',
      SupervisorGraceMinutes: '1',
      // Every assignment reads the fleet as it is unless a world asks for the snapshot (then it
      // ages by the virtual clock, so what a seed does never depends on the machine's speed).
      FleetSnapshotMs: '0',
      ...settings,
    },
    (config) => new RecordingComposition(config, () => clock.now()),
  );
  const faults = new Map<string, number>();
  const activityCalls: string[] = [];
  const store = new CrashingStore(new MemoryInstanceStore());
  const createEngine = (): Promise<DurableEngine> =>
    DurableEngine.create({
      registry,
      clock,
      store,
      ...engineOptions,
      invokeActivity: async (fn, input) => {
        activityCalls.push(fn.name);
        const left = faults.get(fn.name) ?? 0;
        if (left > 0) {
          faults.set(fn.name, left - 1);
          throw new Error(`injected fault in ${fn.name}`);
        }
        return fn.handler(input, createInvocationContext(fn, { logger: silentLogger }));
      },
    });
  let engine = await createEngine();
  let api: DurableHttpServer = await startDurableHttpServer(engine);
  store.onCrash = () => engine.crash();
  const bind = (ctx: InvocationContext): void => {
    bindDurableClient(ctx, api.clientBindingData());
  };
  const sequences = new Map<string, number>();

  const world: SagaWorld = {
    env,
    get engine() {
      return engine;
    },
    store,
    async restart() {
      engine.crash();
      await api.close();
      store.disarm();
      engine = await createEngine();
      api = await startDurableHttpServer(engine);
      await engine.idle();
    },
    clock,
    faults,
    activityCalls,
    post: (body, caller) =>
      callHttp(FUNCTIONS.requestDelivery, {
        method: 'POST',
        path: 'deliveries',
        headers: principalHeaders(caller),
        body: typeof body === 'string' ? body : JSON.stringify(body),
        prepare: bind,
      }),
    cancel: (deliveryId, caller) =>
      callHttp(FUNCTIONS.cancelDelivery, {
        method: 'DELETE',
        path: `deliveries/${deliveryId}`,
        params: { deliveryId },
        headers: principalHeaders(caller),
        prepare: bind,
      }),
    async registerDrone(droneId, at = SEATTLE, overrides = {}) {
      await world.fly(droneId, { position: { ...at, altitudeM: 0 }, status: 'Idle', batteryPct: 95, ...overrides });
    },
    fly: (droneId, overrides) => world.flyBatch(droneId, [overrides]),
    async flyBatch(droneId, reports) {
      const bodies = reports.map((overrides) => {
        const sequence = (sequences.get(droneId) ?? 0) + 1;
        sequences.set(droneId, sequence);
        return telemetry({ droneId, sequence, timestamp: new Date(clock.now()).toISOString(), ...overrides });
      });
      const fn = registry.get(FUNCTIONS.ingestTelemetry);
      const { messages, triggerMetadata } = hostBatch(bodies);
      const ctx = createInvocationContext(fn, { logger: silentLogger, triggerMetadata });
      bind(ctx);
      await fn.handler(messages, ctx);
      await engine.idle();
    },
    async flyAssigned(deliveryId, overrides) {
      const droneId = (await world.progress(deliveryId))?.droneId;
      if (!droneId) throw new Error(`delivery ${deliveryId} has no drone assigned`);
      await world.fly(droneId, { deliveryId, ...overrides });
    },
    async raise(instanceId, name, data) {
      await engine.raiseEvent(instanceId, name, data);
      await engine.idle();
    },
    settle: () => engine.idle(),
    status: (id) => engine.getStatus(id),
    async progress(id) {
      return (await engine.getStatus(id))?.customStatus as SagaProgress | undefined;
    },
    events: (id) => env.composition.published.filter((e) => e.deliveryId === id),
    supervise: (now) => world.superviseLogged(() => undefined, now),
    async superviseLogged(log, now = new Date(clock.now())) {
      const fn = registry.get(FUNCTIONS.superviseSagas);
      const ctx = createInvocationContext(fn, { logger: silentLogger });
      bind(ctx);
      const report = await superviseOnce(
        supervisorDeps(env.composition, new DurableSagas(df.getClient(ctx)), () => now, log),
      );
      await engine.idle();
      return report;
    },
    async close() {
      await api.close();
      await engine.close();
    },
  };
  return world;
}

/** Every reservation still held and every package still active, across the world's database. */
export async function heldResources(world: SagaWorld): Promise<{ reservations: string[]; activePackages: string[] }> {
  const db = world.env.cosmos.database(world.env.databaseId);
  const r = await db
    .container(COSMOS_CONTAINERS.droneReservations.name)
    .items.query<{ id: string; deliveryId: string }>("SELECT * FROM c WHERE c.kind = 'reservation'")
    .fetchAll();
  const p = await db
    .container(COSMOS_CONTAINERS.packages.name)
    .items.query<{ id: string }>("SELECT * FROM c WHERE c.status = 'Active'")
    .fetchAll();
  return { reservations: r.resources.map((x) => x.deliveryId), activePackages: p.resources.map((x) => x.id) };
}

export const sagaName = ORCHESTRATIONS.deliverySaga;

export function request(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    pickup: { lat: 47.61, lon: -122.33 },
    dropoff: { lat: 47.62, lon: -122.35 },
    package: { size: 'small', weightKg: 2.5 },
    ...overrides,
  };
}

export const alice: Caller = { id: 'alice', roles: [] };
export const bob: Caller = { id: 'bob', roles: [] };
export const admin: Caller = { id: 'ops-admin', roles: ['Deliveries.Admin'] };
export const reader: Caller = { id: 'auditor', roles: ['Deliveries.Reader'] };
