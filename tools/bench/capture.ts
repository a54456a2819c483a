/**
 * Capture's file format beside the plainest archive: Avro object container files as Event Hubs
 * Capture writes them (the published EventData schema, deflate, as the local Capture writer
 * uses) ÷ JSON lines (`JSON.stringify(event) + '\n'`), both from the same delivery event
 * objects: events/s to encode a file of 1,000 events, and bytes per event.
 */
import { encodeCaptureFile, formatEnqueuedTimeUtc } from '@fabrikam/functions-local';
import type { CaptureCodec, CapturedEvent } from '../../functions/adapters/capture-format';
import type { DeliveryEvent } from '../../domain/delivery/events';
import { deliveryEvents } from './delivery-events';
import { opsPerSecond, sideBySide } from './harness';
import type { Row } from './harness';

const CODEC: CaptureCodec = 'deflate';
const ENQUEUED = Date.UTC(2026, 10, 22, 10, 0, 0);

function captured(events: readonly DeliveryEvent[]): CapturedEvent[] {
  return events.map((e, i) => ({
    sequenceNumber: i,
    offset: String(i * 512),
    enqueuedTimeUtc: formatEnqueuedTimeUtc(new Date(ENQUEUED)),
    systemProperties: { 'x-opt-enqueued-time': ENQUEUED, 'x-opt-partition-key': e.deliveryId },
    properties: {},
    body: Buffer.from(JSON.stringify(e), 'utf8'),
  }));
}

const jsonLines = (events: readonly DeliveryEvent[]): Buffer =>
  Buffer.from(events.map((e) => `${JSON.stringify(e)}\n`).join(''), 'utf8');

export async function benchCapture(opts: { quick: boolean }): Promise<Row[]> {
  const events = deliveryEvents('capture', 125); // 1,000 events
  const ms = opts.quick ? 40 : 400;
  const r = await sideBySide(
    () => opsPerSecond(() => encodeCaptureFile(captured(events), { codec: CODEC }), events.length, ms),
    () => opsPerSecond(() => jsonLines(events), events.length, ms),
    opts.quick ? 1 : 5,
  );
  const avroBytes = (await encodeCaptureFile(captured(events), { codec: CODEC })).length / events.length;
  const plainAvroBytes = (await encodeCaptureFile(captured(events), { codec: 'null' })).length / events.length;
  const jsonBytes = jsonLines(events).length / events.length;
  return [
    {
      metric: 'capture: Avro encode vs JSON lines',
      ours: r.ours,
      baseline: r.baseline,
      ratio: r.ours / r.baseline,
      target: 'info',
      unit: 'events/s (1,000-event file)',
      note: `Avro container with the Capture schema and ${CODEC} codec, from the same event objects as the JSON lines`,
    },
    {
      metric: 'capture: bytes per event, Avro vs JSON lines',
      ours: avroBytes,
      baseline: jsonBytes,
      ratio: avroBytes / jsonBytes,
      target: 'info',
      unit: 'bytes/event',
      note: `${CODEC}; without compression the Avro file takes ${plainAvroBytes.toFixed(0)} bytes/event (the JSON body plus Capture's envelope)`,
    },
  ];
}
