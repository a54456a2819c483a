/** Dead-letter listing and replay against Azurite, publishing through the local publish endpoint's wire format. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerClient } from '@azure/storage-blob';
import { useEmulators } from '../../support/emulators';
import { telemetry } from '../../support/telemetry';
import { BlobDeadLetterSink } from '../../../functions/adapters/blob-dead-letters';
import { readDeadLetters, replayDeadLetters } from '../../../tools/deadletter/replay';
import { LocalRuntimePublisher } from '../../../functions/adapters/event-publishers';
import type { DeadLetter } from '../../../domain/shared/ports';

let container: ContainerClient;
let server: http.Server;
let baseUrl: string;
const received: { hub: string; events: { body: unknown; partitionKey?: string }[] }[] = [];

beforeAll(async () => {
  const env = await useEmulators('deadletter');
  // A container of this file's own, so other files' dead letters are not replayed here.
  container = env.blobs.getContainerClient(`dl-${process.pid}-${Date.now().toString(36)}`);
  await container.create();
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const hub = decodeURIComponent((req.url ?? '').replace('/local/eventhubs/', ''));
      const events = JSON.parse(body) as { body: unknown; partitionKey?: string }[];
      received.push({ hub, events });
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ accepted: events.length }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await container.deleteIfExists();
  await new Promise((r) => server.close(r));
});

const letter = (seq: number, rawBody: string, reason: DeadLetter['reason']): DeadLetter => ({
  source: 'telemetry',
  reason,
  errors: [{ path: '/', message: 'was bad' }],
  rawBody,
  rawBodyEncoding: 'utf8',
  origin: {
    eventHubName: 'telemetry',
    partitionId: '3',
    sequenceNumber: seq,
    offset: String(seq),
    enqueuedTimeUtc: '2026-11-22T10:00:00.000Z',
  },
  deadLetteredAt: '2026-11-22T10:00:01.000Z',
});

describe('npm run deadletter: list and replay', () => {
  it('lists every dead letter with its reason and origin, and replays only what now validates, once', async () => {
    const sink = new BlobDeadLetterSink(container);
    const fixed = telemetry({ droneId: 'replayed-drone', sequence: 12 });
    await sink.put(letter(1, JSON.stringify(fixed), 'UnsupportedSchemaVersion'));
    await sink.put(letter(2, '{ still not json', 'NotJson'));
    await sink.put(letter(1, 'a second delivery of the same event', 'NotJson'));

    const listed = [];
    for await (const l of readDeadLetters(container)) listed.push(l);
    expect(listed.map((l) => [l.origin.sequenceNumber, l.reason]).sort()).toEqual([
      [1, 'UnsupportedSchemaVersion'],
      [2, 'NotJson'],
    ]);

    const dry = await replayDeadLetters(container, new LocalRuntimePublisher(baseUrl), { dryRun: true });
    expect(dry).toMatchObject({ examined: 2, replayed: 1, stillInvalid: 1 });
    expect(received).toHaveLength(0);

    const lines: string[] = [];
    const report = await replayDeadLetters(container, new LocalRuntimePublisher(baseUrl), {
      progress: (l) => lines.push(l),
    });
    expect(report).toEqual({ examined: 2, replayed: 1, stillInvalid: 1, alreadyReplayed: 0, unsupportedSource: 0 });
    expect(received).toEqual([{ hub: 'telemetry', events: [{ body: fixed, partitionKey: 'replayed-drone' }] }]);
    expect(lines.some((l) => l.startsWith('still invalid:') && l.includes('NotJson'))).toBe(true);

    const again = await replayDeadLetters(container, new LocalRuntimePublisher(baseUrl));
    expect(again).toMatchObject({ replayed: 0, alreadyReplayed: 1, stillInvalid: 1 });
    expect(received).toHaveLength(1);
  });

  it('fails loudly when the hub does not accept the events, and marks nothing replayed', async () => {
    const sink = new BlobDeadLetterSink(container);
    await sink.put(letter(50, JSON.stringify(telemetry({ droneId: 'second', sequence: 1 })), 'SchemaViolation'));
    const refusing = { publish: () => Promise.reject(new Error('hub unavailable')), close: async () => undefined };
    await expect(replayDeadLetters(container, refusing)).rejects.toThrow('hub unavailable');
    const pending = [];
    for await (const l of readDeadLetters(container))
      if (!l.replayedAt && l.origin.sequenceNumber === 50) pending.push(l);
    expect(pending).toHaveLength(1);
  });
});

describe('npm run deadletter: delivery events', () => {
  it('replays a delivery event that now validates to delivery-events, keyed by delivery id, and leaves unknown sources alone', async () => {
    const sink = new BlobDeadLetterSink(container);
    const event = {
      eventId: 'dl-delivery:1',
      type: 'DeliveryRequested',
      deliveryId: 'dl-delivery',
      sequence: 1,
      occurredAt: '2026-11-22T10:00:00.000Z',
      schemaVersion: 1,
      correlationId: 'dl-delivery',
      data: {
        ownerId: 'alice',
        pickup: { lat: 47.6, lon: -122.3 },
        dropoff: { lat: 47.61, lon: -122.31 },
        expedited: false,
        package: { size: 'small', weightKg: 1 },
      },
    };
    await sink.put({
      ...letter(70, JSON.stringify(event), 'SchemaViolation'),
      source: 'delivery-events',
      origin: { eventHubName: 'delivery-events', partitionId: '1', sequenceNumber: 70 },
    });
    await sink.put({
      ...letter(71, '{}', 'SchemaViolation'),
      source: 'mystery',
      origin: { eventHubName: 'mystery', partitionId: '1', sequenceNumber: 71 },
    });
    const before = received.length;
    const report = await replayDeadLetters(container, new LocalRuntimePublisher(baseUrl));
    expect(report.unsupportedSource).toBe(1);
    const toDeliveryEvents = received.slice(before).filter((r) => r.hub === 'delivery-events');
    expect(toDeliveryEvents).toEqual([
      { hub: 'delivery-events', events: [{ body: event, partitionKey: 'dl-delivery' }] },
    ]);
    // The telemetry letter the previous specification left unreplayed (its hub refused it) goes now too, to its own hub.
    expect(
      received
        .slice(before)
        .filter((r) => r.hub === 'telemetry')
        .flatMap((r) => r.events.map((e) => e.partitionKey)),
    ).toEqual(['second']);
    expect(report.replayed).toBe(2);
  });
});
