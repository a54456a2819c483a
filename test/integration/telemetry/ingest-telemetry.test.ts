/**
 * Telemetry ingestion through the real registered handler, with host-shaped batches, against
 * Azurite and the Cosmos DB server (through a fault-injecting proxy).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Container } from '@azure/cosmos';
import type { ContainerClient } from '@azure/storage-blob';
import { invocationContext, loadFunctionApp } from '../../support/app';
import { useEmulators } from '../../support/emulators';
import { hostBatch } from '../../support/eventhub';
import { startFaultProxy } from '../../support/fault-proxy';
import type { FaultProxy } from '../../support/fault-proxy';
import { telemetry } from '../../support/telemetry';
import { Composition } from '../../../functions/composition';
import { BreakerOpenError } from '../../../functions/resilience/circuit-breaker';
import { FUNCTIONS } from '../../../functions/names';
import { BLOB_CONTAINERS, COSMOS_CONTAINERS } from '../../../functions/resources';
import type { Milestone } from '../../../domain/telemetry/milestones';
import type { MilestoneSink } from '../../../domain/telemetry/ports';
import type { RegisteredFunction } from '../../../packages/functions-local/src/core/functions-core';

class RecordingComposition extends Composition {
  readonly raised: Milestone[] = [];
  override milestones(): MilestoneSink {
    return { raise: async (m) => void this.raised.push(m) };
  }
}

let proxy: FaultProxy;
let comp: RecordingComposition;
let drones: Container;
let deadletters: ContainerClient;
let ingest: RegisteredFunction;
let run = 0;

beforeAll(async () => {
  proxy = await startFaultProxy(process.env.TEST_COSMOS_ENDPOINT ?? '');
  const env = await useEmulators(
    'ingest',
    {
      CosmosConnection__accountEndpoint: proxy.url,
      IngestionWriteAttempts: '3',
      IngestionBreakerFailureThreshold: '3',
      IngestionBreakerOpenMs: '300',
    },
    (config) => new RecordingComposition(config),
  );
  comp = env.composition;
  drones = env.cosmos.database(env.databaseId).container(COSMOS_CONTAINERS.drones.name);
  deadletters = env.blobs.getContainerClient(BLOB_CONTAINERS.deadLetter.name);
  ingest = (await loadFunctionApp()).get(FUNCTIONS.ingestTelemetry);
});

afterAll(async () => {
  await proxy.close();
});

beforeEach(() => {
  proxy.heal();
  comp.raised.length = 0;
  run++;
});

/** A partition id no other test uses, so dead letters and drones are this test's own. */
const partition = (): string => `t${run}x${process.pid}`;
const drone = (name: string): string => `${name}-${run}-${process.pid}`;

async function invoke(
  bodies: (string | object)[],
  partitionId = partition(),
  firstSequenceNumber = 100,
): Promise<void> {
  const { messages, triggerMetadata } = hostBatch(bodies, { partitionId, firstSequenceNumber });
  await ingest.handler(messages, invocationContext(FUNCTIONS.ingestTelemetry, triggerMetadata));
}

async function droneDoc(id: string): Promise<Record<string, unknown> | undefined> {
  const { resource } = await drones.item(id, id).read<Record<string, unknown>>();
  return resource;
}

async function deadLettersOf(partitionId: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for await (const blob of deadletters.listBlobsFlat({ prefix: 'telemetry/' })) {
    if (!blob.name.includes(`/p${partitionId}-`)) continue;
    const buf = await deadletters.getBlockBlobClient(blob.name).downloadToBuffer();
    out.push(JSON.parse(buf.toString('utf8')) as Record<string, unknown>);
  }
  return out;
}

describe('telemetry ingestion (Event Hubs batch → Cosmos DB drone state, dead letters to Blob)', () => {
  it('is registered as a batch trigger on the telemetry hub with its own consumer group and a retry policy', () => {
    expect(ingest.trigger).toMatchObject({
      type: 'eventHubTrigger',
      eventHubName: 'telemetry',
      cardinality: 'many',
      consumerGroup: '%TelemetryConsumerGroup%',
    });
    expect(ingest.metadata.retryOptions).toMatchObject({ retryStrategy: 'exponentialBackoff', maxRetryCount: 5 });
    expect(Object.values(ingest.metadata.bindings).some((b) => b.type === 'durableClient')).toBe(true);
  });

  it('persists exactly the right states from a mixed batch and dead-letters exactly the bad events with their metadata', async () => {
    const a = drone('a');
    const b = drone('b');
    const p = partition();
    const oneMiB = JSON.stringify({ ...telemetry({ droneId: a, sequence: 99 }), padding: 'x'.repeat(1024 * 1024) });
    await invoke(
      [
        telemetry({ droneId: a, sequence: 1, batteryPct: 90 }),
        '{"droneId": not json',
        { ...telemetry({ droneId: b, sequence: 7 }), status: 'Teleporting' },
        oneMiB,
        telemetry({ droneId: a, sequence: 2, batteryPct: 80 }),
        telemetry({ droneId: a, sequence: 2, batteryPct: 80 }),
        telemetry({ droneId: b, sequence: 5, status: 'Charging' }),
        telemetry({ droneId: b, sequence: 3, status: 'Idle' }),
      ],
      p,
    );

    expect(await droneDoc(a)).toMatchObject({ id: a, sequence: 2, batteryPct: 80, available: true });
    expect(await droneDoc(b)).toMatchObject({ id: b, sequence: 5, status: 'Charging', available: false });

    const letters = await deadLettersOf(p);
    const bySequence = new Map(letters.map((l) => [(l.origin as { sequenceNumber: number }).sequenceNumber, l]));
    expect([...bySequence.keys()].sort()).toEqual([101, 102, 103]);
    expect(bySequence.get(101)).toMatchObject({
      reason: 'NotJson',
      source: 'telemetry',
      rawBody: '{"droneId": not json',
      origin: {
        eventHubName: 'telemetry',
        consumerGroup: 'ingestion',
        partitionId: p,
        sequenceNumber: 101,
        offset: '101000',
      },
    });
    expect(typeof (bySequence.get(101)?.origin as Record<string, unknown>).enqueuedTimeUtc).toBe('string');
    expect(bySequence.get(102)).toMatchObject({ reason: 'SchemaViolation' });
    expect(JSON.stringify(bySequence.get(102)?.errors)).toContain('/status');
    // The host hands a parsed body over, so the 1 MiB event breaks the closed schema; its raw body is kept whole.
    expect(bySequence.get(103)).toMatchObject({ reason: 'SchemaViolation' });
    expect(JSON.stringify(bySequence.get(103)?.errors)).toContain('/padding');
    expect(String(bySequence.get(103)?.rawBody).length).toBeGreaterThan(1024 * 1024);
  });

  it('changes nothing when the same batch is delivered again', async () => {
    const a = drone('a');
    const p = partition();
    const batch = [telemetry({ droneId: a, sequence: 4 }), 'garbage', telemetry({ droneId: a, sequence: 3 })];
    await invoke(batch, p);
    const before = await droneDoc(a);
    const lettersBefore = await deadLettersOf(p);
    await invoke(batch, p);
    const after = await droneDoc(a);
    expect(after?._etag).toBe(before?._etag);
    expect(after?.sequence).toBe(4);
    const lettersAfter = await deadLettersOf(p);
    expect(lettersAfter).toHaveLength(1);
    expect(lettersAfter[0]?.deadLetteredAt).toBe(lettersBefore[0]?.deadLetteredAt);
  });

  it('retries through a transient Cosmos fault during a batch and loses nothing', async () => {
    const a = drone('a');
    proxy.failNext(2, { kind: 'status', status: 503 }, (method) => method === 'PUT' || method === 'POST');
    await invoke([telemetry({ droneId: a, sequence: 10 })]);
    expect(proxy.injected).toBeGreaterThanOrEqual(2);
    expect(await droneDoc(a)).toMatchObject({ sequence: 10 });
  });

  it('fails the invocation while the store stays down, opens the breaker so others fail fast, and the retried batch then lands', async () => {
    const a = drone('a');
    proxy.failAll({ kind: 'status', status: 503 });
    const batch = [telemetry({ droneId: a, sequence: 1 }), telemetry({ droneId: a, sequence: 2, status: 'Charging' })];
    await expect(invoke(batch)).rejects.toMatchObject({ code: 503 });
    expect(comp.ingestionBreaker().current).toBe('open');

    const hitsBefore = proxy.injected;
    await expect(
      invoke([telemetry({ droneId: drone('other'), sequence: 1 })], `${partition()}-other`),
    ).rejects.toBeInstanceOf(BreakerOpenError);
    expect(proxy.injected).toBe(hitsBefore);

    proxy.heal();
    await new Promise((r) => setTimeout(r, 350));
    await invoke(batch);
    expect(comp.ingestionBreaker().current).toBe('closed');
    expect(await droneDoc(a)).toMatchObject({ sequence: 2, status: 'Charging' });
  });

  it('ends two overlapping batches for the same drone at the highest sequence', async () => {
    const a = drone('a');
    const odd = Array.from({ length: 20 }, (_, i) => telemetry({ droneId: a, sequence: 2 * i + 1, batteryPct: 50 }));
    const even = Array.from({ length: 20 }, (_, i) => telemetry({ droneId: a, sequence: 2 * i + 2, batteryPct: 60 }));
    await Promise.all([
      invoke(odd.slice(0, 10)),
      invoke(even.slice(0, 10)),
      invoke(odd.slice(10)),
      invoke(even.slice(10)),
    ]);
    expect(await droneDoc(a)).toMatchObject({ sequence: 40, batteryPct: 60 });
  });

  it('raises the delivery milestones the batch carries past the stored state, once each', async () => {
    const a = drone('a');
    const d = `d-${run}`;
    await invoke([
      telemetry({ droneId: a, sequence: 1, status: 'EnRouteToPickup', deliveryId: d }),
      telemetry({ droneId: a, sequence: 2, status: 'PickedUp', deliveryId: d }),
      telemetry({ droneId: a, sequence: 3, status: 'PickedUp', deliveryId: d }),
    ]);
    expect(comp.raised.map((m) => [m.deliveryId, m.name, m.sequence])).toEqual([[d, 'PackagePickedUp', 2]]);
    await invoke([
      telemetry({ droneId: a, sequence: 2, status: 'PickedUp', deliveryId: d }),
      telemetry({ droneId: a, sequence: 5, status: 'Delivered', deliveryId: d }),
      telemetry({ droneId: a, sequence: 4, status: 'EnRouteToDropoff', deliveryId: d }),
    ]);
    expect(comp.raised.map((m) => m.name)).toEqual(['PackagePickedUp', 'DeliveryInTransit', 'DeliveryCompleted']);
    expect(await droneDoc(a)).toMatchObject({ sequence: 5, status: 'Delivered', deliveryId: d, available: false });
  });
});
