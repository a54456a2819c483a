/**
 * Batches that exhaust their retry policy are parked, never dropped: both hub triggers, run by
 * the local Event Hubs dispatcher with their real retry policy, against a Cosmos DB outage longer
 * than the policy (a fault-injecting proxy in front of the Cosmos stand-in). Every event lands in
 * the dead-letter store (Azurite) once, with reason RetriesExhausted, its Event Hubs metadata and
 * the last error; after recovery `replay --reason RetriesExhausted` re-publishes them and the
 * drone and delivery end in the right state. Retry waits run on a manual clock: nothing sleeps.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerClient } from '@azure/storage-blob';
import { loadFunctionApp } from '../../support/app';
import { deliveryStream } from '../../support/delivery';
import { useEmulators } from '../../support/emulators';
import { startFaultProxy } from '../../support/fault-proxy';
import type { FaultProxy } from '../../support/fault-proxy';
import { telemetry } from '../../support/telemetry';
import { Composition } from '../../../functions/composition';
import { FUNCTIONS, HUBS } from '../../../functions/names';
import { BLOB_CONTAINERS, EVENT_HUBS } from '../../../functions/resources';
import type { Milestone } from '../../../domain/telemetry/milestones';
import type { MilestoneSink } from '../../../domain/telemetry/ports';
import { ManualClock } from '../../../packages/functions-local/src/clock';
import { EventHubNamespace } from '../../../packages/functions-local/src/eventhubs/hub';
import { EventHubTriggerDispatcher } from '../../../packages/functions-local/src/eventhubs/trigger';
import type { LocalLogger } from '../../../packages/functions-local/src/host/invocation';
import { readDeadLetters, replayDeadLetters } from '../../../tools/deadletter/replay';
import type { DeadLetter, EventPublisher, OutgoingEvent } from '../../../domain/shared/ports';

class RecordingComposition extends Composition {
  readonly raised: Milestone[] = [];
  override milestones(): MilestoneSink {
    return { raise: async (m) => void this.raised.push(m) };
  }
}

/** Publishes straight into the in-process hubs, as `npm run deadletter -- replay` does through the runtime's endpoint. */
class NamespacePublisher implements EventPublisher {
  constructor(private readonly ns: EventHubNamespace) {}
  async publish(hub: string, events: readonly OutgoingEvent[]): Promise<void> {
    this.ns.hub(hub).publish(
      events.map((e) => ({
        body: e.body,
        ...(e.partitionKey !== undefined ? { partitionKey: e.partitionKey } : {}),
      })),
    );
  }
  async close(): Promise<void> {}
}

const suffix = `${process.pid}-${Date.now().toString(36)}`;
const DRONE = `parked-drone-${suffix}`;
const DELIVERY = `parked-delivery-${suffix}`;

let proxy: FaultProxy;
let comp: RecordingComposition;
let deadletters: ContainerClient;
let ns: EventHubNamespace;
const clock = new ManualClock(Date.now());
const logs: { level: string; message: string }[] = [];
const logger: LocalLogger = (level, _category, message) => void logs.push({ level, message });
const dispatchers: EventHubTriggerDispatcher[] = [];
const settings = { TelemetryConsumerGroup: 'ingestion', ProjectorConsumerGroup: 'projector' };

async function startDispatchers(): Promise<void> {
  const registry = await loadFunctionApp();
  for (const name of [FUNCTIONS.ingestTelemetry, FUNCTIONS.projectDeliveryEvents]) {
    dispatchers.push(
      new EventHubTriggerDispatcher(registry.get(name), { namespace: ns, settings, clock, logger }).start(),
    );
  }
}

async function stopDispatchers(): Promise<void> {
  await Promise.all(dispatchers.splice(0).map((d) => d.stop()));
}

/**
 * Lets real I/O (the proxy, Azurite, the Cosmos stand-in) happen and fires the manual clock's
 * retry timers one by one, until `done` holds. Bounded, so a regression fails instead of hanging.
 */
async function driveUntil(done: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 5000; i++) {
    if (await done()) return;
    await new Promise((r) => setTimeout(r, 2));
    if (clock.pendingTimers > 0) clock.fireNextDue(Number.POSITIVE_INFINITY);
  }
  throw new Error(`gave up waiting; logs:\n${logs.map((l) => `${l.level}: ${l.message}`).join('\n')}`);
}

const checkpointed = (hub: string, owner: string, group: string): number =>
  Math.max(
    -1,
    ...ns
      .hub(hub)
      .partitionIds.map(
        (partitionId) => ns.checkpoints.get({ hub, consumerGroup: group, owner, partitionId })?.sequenceNumber ?? -1,
      ),
  );
const allCheckpointed = (): boolean =>
  ns.hubs.every((hub) =>
    hub.partitionIds.every((id) => {
      const owner = hub.name === HUBS.telemetry ? FUNCTIONS.ingestTelemetry : FUNCTIONS.projectDeliveryEvents;
      const group = hub.name === HUBS.telemetry ? 'ingestion' : 'projector';
      return (
        (ns.checkpoints.get({ hub: hub.name, consumerGroup: group, owner, partitionId: id })?.sequenceNumber ?? -1) >=
        hub.lastSequenceNumber(id)
      );
    }),
  );

async function parked(): Promise<(DeadLetter & { blobName: string })[]> {
  const out: (DeadLetter & { blobName: string })[] = [];
  for await (const l of readDeadLetters(deadletters, { reason: 'RetriesExhausted' })) {
    if (l.rawBody.includes(suffix)) out.push(l);
  }
  return out;
}

const flight = [
  telemetry({ droneId: DRONE, sequence: 1, status: 'Idle', timestamp: new Date().toISOString() }),
  telemetry({
    droneId: DRONE,
    sequence: 2,
    status: 'EnRouteToPickup',
    deliveryId: DELIVERY,
    timestamp: new Date().toISOString(),
  }),
  telemetry({
    droneId: DRONE,
    sequence: 3,
    status: 'PickedUp',
    deliveryId: DELIVERY,
    timestamp: new Date().toISOString(),
  }),
];
const stream = deliveryStream(DELIVERY, 'delivered', { droneId: DRONE });

beforeAll(async () => {
  proxy = await startFaultProxy(process.env.TEST_COSMOS_ENDPOINT ?? '');
  const env = await useEmulators(
    'parked',
    {
      CosmosConnection__accountEndpoint: proxy.url,
      IngestionWriteAttempts: '1',
      ProjectorWriteAttempts: '1',
      IngestionBreakerFailureThreshold: '1000',
      IngestionBreakerOpenMs: '10',
    },
    (config) => new RecordingComposition(config),
  );
  comp = env.composition;
  deadletters = env.blobs.getContainerClient(BLOB_CONTAINERS.deadLetter.name);
  ns = EventHubNamespace.open({ hubs: EVENT_HUBS, partitionCount: 2, clock });
});

afterAll(async () => {
  await stopDispatchers();
  ns?.close();
  await proxy?.close();
});

describe('a batch whose retry policy runs out during a Cosmos DB outage', () => {
  it('is parked, event by event, with reason RetriesExhausted, its Event Hubs metadata and the last error, and an error-level alert', async () => {
    proxy.failAll({ kind: 'status', status: 503 });
    ns.hub(HUBS.telemetry).publish(flight.map((t) => ({ body: t, partitionKey: DRONE })));
    ns.hub(HUBS.deliveryEvents).publish(stream.map((e) => ({ body: e, partitionKey: DELIVERY })));
    await startDispatchers();
    await driveUntil(allCheckpointed);

    const letters = await parked();
    expect(letters).toHaveLength(flight.length + stream.length);
    for (const l of letters) {
      expect(l.reason).toBe('RetriesExhausted');
      expect(l.blobName).toMatch(/\.retries-exhausted\.json$/);
      expect(l.lastError).toMatch(/503|ServiceUnavailable|injected fault/i);
      // The policy's five retries were spent: the sixth run (retryCount 5) parked.
      expect(l.retry).toEqual({ retryCount: 5, maxRetryCount: 5 });
      expect(l.origin).toMatchObject({
        partitionId: expect.any(String),
        sequenceNumber: expect.any(Number),
        offset: expect.any(String),
        enqueuedTimeUtc: expect.any(String),
      });
    }
    const telemetryLetters = letters.filter((l) => l.source === 'telemetry');
    expect(telemetryLetters.map((l) => l.origin.sequenceNumber).sort()).toEqual([0, 1, 2]);
    expect(telemetryLetters.map((l) => (JSON.parse(l.rawBody) as { sequence: number }).sequence).sort()).toEqual([
      1, 2, 3,
    ]);
    expect(
      telemetryLetters.every(
        (l) =>
          l.origin.eventHubName === HUBS.telemetry &&
          l.origin.consumerGroup === 'ingestion' &&
          l.origin.partitionKey === DRONE,
      ),
    ).toBe(true);
    expect(
      letters
        .filter((l) => l.source === 'delivery-events')
        .map((l) => (JSON.parse(l.rawBody) as { sequence: number }).sequence)
        .sort((a, b) => a - b),
    ).toEqual(stream.map((e) => e.sequence));

    const alerts = logs
      .filter((l) => l.level === 'error' && l.message.includes('"alert":"hub.batchParked"'))
      .map((l) => JSON.parse(l.message) as Record<string, unknown>);
    expect(alerts.map((a) => a.function).sort()).toEqual(
      [FUNCTIONS.ingestTelemetry, FUNCTIONS.projectDeliveryEvents].sort(),
    );
    expect(
      alerts.every((a) => a.reason === 'RetriesExhausted' && a.retryCount === 5 && typeof a.error === 'string'),
    ).toBe(true);
    // Nothing reached Cosmos, and nothing was raised: the outage hit the first read.
    expect(comp.raised).toEqual([]);
  });

  it('stores each event once when the same batch is delivered again (a checkpoint lost) and fails its last retry again', async () => {
    const before = await parked();
    await stopDispatchers();
    for (const hub of ns.hubs) {
      const owner = hub.name === HUBS.telemetry ? FUNCTIONS.ingestTelemetry : FUNCTIONS.projectDeliveryEvents;
      const group = hub.name === HUBS.telemetry ? 'ingestion' : 'projector';
      for (const partitionId of hub.partitionIds)
        ns.checkpoints.set(
          { hub: hub.name, consumerGroup: group, owner, partitionId },
          { sequenceNumber: -1, offset: '', updatedAt: new Date(clock.now()).toISOString() },
        );
    }
    const alertsBefore = logs.filter((l) => l.message.includes('hub.batchParked')).length;
    await startDispatchers();
    await driveUntil(
      () => allCheckpointed() && logs.filter((l) => l.message.includes('hub.batchParked')).length >= alertsBefore + 2,
    );
    const after = await parked();
    expect(after.map((l) => l.blobName).sort()).toEqual(before.map((l) => l.blobName).sort());
    // The first record of each event is the one kept.
    expect(new Map(after.map((l) => [l.blobName, l.deadLetteredAt]))).toEqual(
      new Map(before.map((l) => [l.blobName, l.deadLetteredAt])),
    );
  });

  it('after recovery, replay --reason RetriesExhausted re-publishes them: nothing is lost and the drone and the delivery end right', async () => {
    proxy.heal();
    const report = await replayDeadLetters(deadletters, new NamespacePublisher(ns), {
      filter: { reason: 'RetriesExhausted' },
    });
    expect(report.replayed).toBeGreaterThanOrEqual(flight.length + stream.length);
    expect(report.stillInvalid).toBe(0);
    await driveUntil(
      async () => allCheckpointed() && (await comp.statusViews().read(DELIVERY))?.view.stage === 'Delivered',
    );

    const drone = await comp.droneStore().read(DRONE);
    expect(drone?.state).toMatchObject({ sequence: 3, status: 'PickedUp', deliveryId: DELIVERY });
    expect(comp.raised.map((m) => [m.deliveryId, m.name])).toEqual([[DELIVERY, 'PackagePickedUp']]);
    const view = await comp.statusViews().read(DELIVERY);
    expect(view?.view).toMatchObject({ deliveryId: DELIVERY, stage: 'Delivered', version: stream.length });
    const stored = await comp.deliveryEventStore().readStream(DELIVERY);
    expect(stored.map((e) => e.sequence)).toEqual(stream.map((e) => e.sequence));
    expect(checkpointed(HUBS.telemetry, FUNCTIONS.ingestTelemetry, 'ingestion')).toBeGreaterThanOrEqual(flight.length);

    // A second replay sends nothing again.
    const again = await replayDeadLetters(deadletters, new NamespacePublisher(ns), {
      filter: { reason: 'RetriesExhausted' },
    });
    expect(again.replayed).toBe(0);
    expect(again.alreadyReplayed).toBe(report.replayed);
  });
});
