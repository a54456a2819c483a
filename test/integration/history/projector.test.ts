/**
 * The delivery-history projector through the real registered handler, with host-shaped
 * batches on `delivery-events`, against the Cosmos DB server (through a fault-injecting proxy)
 * and Azurite.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Container } from '@azure/cosmos';
import type { ContainerClient } from '@azure/storage-blob';
import { invocationContext, loadFunctionApp } from '../../support/app';
import { deliveryStream } from '../../support/delivery';
import { useEmulators } from '../../support/emulators';
import { hostBatch } from '../../support/eventhub';
import { startFaultProxy } from '../../support/fault-proxy';
import type { FaultProxy } from '../../support/fault-proxy';
import { deliveryEvent } from '../../../domain/delivery/events';
import type { DeliveryEvent } from '../../../domain/delivery/events';
import { foldStatus } from '../../../domain/delivery/status';
import { FUNCTIONS } from '../../../functions/names';
import { BLOB_CONTAINERS, COSMOS_CONTAINERS } from '../../../functions/resources';
import type { RegisteredFunction } from '../../../packages/functions-local/src/core/functions-core';

let proxy: FaultProxy;
let eventDocs: Container;
let statusDocs: Container;
let deadletters: ContainerClient;
let projector: RegisteredFunction;
let run = 0;

beforeAll(async () => {
  proxy = await startFaultProxy(process.env.TEST_COSMOS_ENDPOINT ?? '');
  const env = await useEmulators('projector', {
    CosmosConnection__accountEndpoint: proxy.url,
    ProjectorWriteAttempts: '2',
    StatusViewTtlDays: '2',
  });
  const db = env.cosmos.database(env.databaseId);
  eventDocs = db.container(COSMOS_CONTAINERS.deliveryEvents.name);
  statusDocs = db.container(COSMOS_CONTAINERS.deliveryStatus.name);
  deadletters = env.blobs.getContainerClient(BLOB_CONTAINERS.deadLetter.name);
  projector = (await loadFunctionApp()).get(FUNCTIONS.projectDeliveryEvents);
});

afterAll(async () => {
  await proxy.close();
});

beforeEach(() => {
  proxy.heal();
  run++;
});

const partition = (): string => `t${run}x${process.pid}`;
const delivery = (name: string): string => `${name}-${run}-${process.pid}`;

async function invoke(
  bodies: (string | object)[],
  partitionId = partition(),
  firstSequenceNumber = 100,
): Promise<void> {
  const { messages, triggerMetadata } = hostBatch(bodies, {
    eventHubName: 'delivery-events',
    consumerGroup: 'projector',
    partitionId,
    firstSequenceNumber,
  });
  await projector.handler(messages, invocationContext(FUNCTIONS.projectDeliveryEvents, triggerMetadata));
}

async function statusDoc(id: string): Promise<Record<string, unknown> | undefined> {
  const { resource } = await statusDocs.item(id, id).read<Record<string, unknown>>();
  return resource;
}

async function storedStream(deliveryId: string): Promise<Record<string, unknown>[]> {
  const { resources } = await eventDocs.items
    .query<Record<string, unknown>>(
      { query: 'SELECT * FROM c WHERE c.deliveryId = @d', parameters: [{ name: '@d', value: deliveryId }] },
      { partitionKey: deliveryId },
    )
    .fetchAll();
  return resources.sort((a, b) => Number(a.sequence) - Number(b.sequence));
}

const viewOf = (doc: Record<string, unknown> | undefined): Record<string, unknown> => {
  const { id: _id, ttl: _ttl, _rid, _self, _etag, _attachments, _ts, ...view } = doc ?? {};
  void [_rid, _self, _etag, _attachments, _ts];
  return view;
};

describe('delivery-history projector (Event Hubs batch → event store + status view in Cosmos DB)', () => {
  it('is registered as a batch trigger on delivery-events with its own consumer group and a retry policy', () => {
    expect(projector.trigger).toMatchObject({
      type: 'eventHubTrigger',
      eventHubName: 'delivery-events',
      cardinality: 'many',
      consumerGroup: '%ProjectorConsumerGroup%',
      connection: 'EventHubConnection',
    });
    expect(projector.metadata.retryOptions).toMatchObject({ retryStrategy: 'exponentialBackoff', maxRetryCount: 5 });
  });

  it('stores one document per event, id deliveryId:sequence, and writes the view of the in-order fold', async () => {
    const d = delivery('d');
    const events = deliveryStream(d, 'inFlight');
    await invoke(events);
    const stored = await storedStream(d);
    expect(stored.map((s) => s.id)).toEqual(events.map((e) => `${d}:${e.sequence}`));
    expect(stored[2]).toMatchObject(JSON.parse(JSON.stringify(events[2])) as Record<string, unknown>);
    const doc = await statusDoc(d);
    expect(viewOf(doc)).toEqual(foldStatus(events));
    expect(doc).toMatchObject({ id: d, stage: 'PickedUp', version: 5, droneId: 'drone-7' });
    expect(doc).not.toHaveProperty('ttl');
  });

  it('ends with the in-order view from a batch with duplicates and reordering, and stores each event once', async () => {
    const d = delivery('d');
    const events = deliveryStream(d, 'delivered');
    const [e1, e2, e3, e4, e5, e6, e7] = events;
    await invoke([e7!, e3!, e1!, e3!, e5!, e2!, e7!, e4!, e6!, e1!]);
    expect((await storedStream(d)).map((s) => s.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(viewOf(await statusDoc(d))).toEqual(foldStatus(events));
  });

  it('holds the view at the gapless prefix until a later batch fills the gap, then catches up', async () => {
    const d = delivery('d');
    const events = deliveryStream(d, 'delivered');
    await invoke([events[0]!, events[1]!, events[3]!, events[4]!, events[6]!]);
    expect((await storedStream(d)).map((s) => s.sequence)).toEqual([1, 2, 4, 5, 7]);
    expect(viewOf(await statusDoc(d))).toEqual(foldStatus(events.slice(0, 2)));

    await invoke([events[2]!], `${partition()}-b`);
    expect(viewOf(await statusDoc(d))).toEqual(foldStatus(events.slice(0, 5)));

    await invoke([events[5]!, events[1]!], `${partition()}-c`);
    expect(viewOf(await statusDoc(d))).toMatchObject({ stage: 'Delivered', version: 7 });
    expect(viewOf(await statusDoc(d))).toEqual(foldStatus(events));
  });

  it("gives a finished delivery's view a per-item TTL of StatusViewTtlDays", async () => {
    const d = delivery('d');
    await invoke(deliveryStream(d, 'cancelled'));
    expect(await statusDoc(d)).toMatchObject({ stage: 'Cancelled', ttl: 2 * 86_400 });
  });

  it('changes nothing when the same batch is delivered again', async () => {
    const d = delivery('d');
    const batch = deliveryStream(d, 'delivered');
    await invoke(batch);
    const before = await statusDoc(d);
    const streamBefore = await storedStream(d);
    await invoke(batch);
    expect((await statusDoc(d))?._etag).toBe(before?._etag);
    expect((await storedStream(d)).map((s) => s._etag)).toEqual(streamBefore.map((s) => s._etag));
  });

  it('keeps the first event at a sequence when a different one claims it, and goes on', async () => {
    const d = delivery('d');
    const events = deliveryStream(d, 'delivered');
    await invoke(events.slice(0, 3));
    const impostor = deliveryEvent('DroneAssigned', d, 3, events[2]!.occurredAt, 'other', {
      droneId: 'drone-99',
      distanceToPickupM: 5,
    });
    await invoke([impostor, events[3]!], `${partition()}-b`);
    const stored = await storedStream(d);
    expect(stored[2]).toMatchObject({ correlationId: events[2]!.correlationId, data: { droneId: 'drone-7' } });
    expect(viewOf(await statusDoc(d))).toEqual(foldStatus(events.slice(0, 4)));
  });

  it('dead-letters exactly the poison events with their Event Hubs metadata and projects the rest', async () => {
    const d = delivery('d');
    const p = partition();
    const events = deliveryStream(d, 'inFlight');
    const bad: DeliveryEvent = { ...events[1]!, data: { packageId: 'p' } } as unknown as DeliveryEvent;
    await invoke([events[0]!, '{"type": not json', { ...events[1], schemaVersion: 9 }, bad, events[1]!, events[2]!], p);

    const letters: Record<string, unknown>[] = [];
    for await (const blob of deadletters.listBlobsFlat({ prefix: 'delivery-events/' })) {
      if (!blob.name.includes(`/p${p}-`)) continue;
      letters.push(
        JSON.parse((await deadletters.getBlockBlobClient(blob.name).downloadToBuffer()).toString('utf8')) as Record<
          string,
          unknown
        >,
      );
    }
    const bySequence = new Map(letters.map((l) => [(l.origin as { sequenceNumber: number }).sequenceNumber, l]));
    expect([...bySequence.keys()].sort()).toEqual([101, 102, 103]);
    expect(bySequence.get(101)).toMatchObject({
      source: 'delivery-events',
      reason: 'NotJson',
      rawBody: '{"type": not json',
      origin: {
        eventHubName: 'delivery-events',
        consumerGroup: 'projector',
        partitionId: p,
        sequenceNumber: 101,
        offset: '101000',
      },
    });
    expect(typeof (bySequence.get(101)?.origin as Record<string, unknown>).enqueuedTimeUtc).toBe('string');
    expect(bySequence.get(102)).toMatchObject({ reason: 'UnsupportedSchemaVersion' });
    expect(bySequence.get(103)).toMatchObject({ reason: 'SchemaViolation' });
    expect(JSON.stringify(bySequence.get(103)?.errors)).toContain('/data/size');

    expect(viewOf(await statusDoc(d))).toEqual(foldStatus(events.slice(0, 3)));
  });

  it('retries a transient store fault inside the invocation', async () => {
    const d = delivery('d');
    const events = deliveryStream(d, 'delivered');
    proxy.failNext(
      1,
      { kind: 'status', status: 503 },
      (method, path) => method === 'POST' && path.includes('/colls/deliveryEvents/'),
    );
    await invoke(events);
    expect(proxy.injected).toBeGreaterThanOrEqual(1);
    expect(viewOf(await statusDoc(d))).toEqual(foldStatus(events));
  });

  it('fails the invocation when the view store stays down mid-batch, and the re-run batch lands without duplicates', async () => {
    const a = delivery('a');
    const b = delivery('b');
    const batch = [...deliveryStream(a, 'delivered'), ...deliveryStream(b, 'failed')];
    proxy.failAll({ kind: 'status', status: 503 }, (_method, path) => path.includes('/colls/deliveryStatus/'));
    await expect(invoke(batch)).rejects.toMatchObject({ code: 503 });
    // The events were appended before the fault; the views were not written.
    expect((await storedStream(a)).length).toBe(7);
    proxy.heal();
    expect(await statusDoc(a)).toBeUndefined();

    await invoke(batch);
    expect((await storedStream(a)).map((s) => s.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect((await storedStream(b)).map((s) => s.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(viewOf(await statusDoc(a))).toEqual(foldStatus(deliveryStream(a, 'delivered')));
    expect(viewOf(await statusDoc(b))).toEqual(foldStatus(deliveryStream(b, 'failed')));
  });

  it('converges when two batches of the same delivery are projected at once', async () => {
    const d = delivery('d');
    const events = deliveryStream(d, 'delivered');
    await Promise.all([
      invoke(events.filter((e) => e.sequence % 2 === 1)),
      invoke(
        events.filter((e) => e.sequence % 2 === 0),
        `${partition()}-b`,
      ),
    ]);
    expect(viewOf(await statusDoc(d))).toEqual(foldStatus(events));
  });
});
