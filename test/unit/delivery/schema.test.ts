/** Delivery event envelopes (docs/contract.md §3): what is accepted, and why the rest is poison. */
import { describe, expect, it } from 'vitest';
import { DELIVERY_EVENT_TYPES } from '../../../domain/delivery/events';
import { decodeDeliveryEvent, validateDeliveryEvent } from '../../../domain/delivery/schema';
import { deliveryStream } from '../../support/delivery';

const utf8 = (b: Uint8Array): string => Buffer.from(b).toString('utf8');
const all = [
  ...deliveryStream('d1', 'delivered'),
  ...deliveryStream('d2', 'cancelled'),
  ...deliveryStream('d3', 'failed'),
];

function errorsOf(body: unknown): { reason: string; paths: string[] } {
  const v = validateDeliveryEvent(body);
  if (v.ok) throw new Error('expected a rejection');
  return { reason: v.reason, paths: v.errors.map((e) => e.path) };
}

describe('delivery event envelope validation', () => {
  it('accepts every event type of the contract with its data', () => {
    expect(new Set(all.map((e) => e.type))).toEqual(new Set(DELIVERY_EVENT_TYPES));
    for (const e of all) expect(validateDeliveryEvent(JSON.parse(JSON.stringify(e)))).toEqual({ ok: true, value: e });
  });

  it('rejects a missing or mistyped envelope field, naming it', () => {
    const [e] = deliveryStream('d1');
    const { correlationId: _dropped, ...noCorrelation } = e!;
    expect(errorsOf(noCorrelation)).toMatchObject({
      reason: 'SchemaViolation',
      paths: expect.arrayContaining(['/correlationId']),
    });
    expect(errorsOf({ ...e, sequence: 1.5 }).paths).toContain('/sequence');
    expect(errorsOf({ ...e, sequence: 0 }).paths).toContain('/sequence');
    expect(errorsOf({ ...e, deliveryId: '../x' }).paths).toContain('/deliveryId');
    expect(errorsOf({ ...e, occurredAt: 'yesterday' }).paths).toContain('/occurredAt');
    expect(errorsOf({ ...e, occurredAt: '2026-02-30T10:00:00Z' }).paths).toContain('/occurredAt');
    expect(errorsOf({ ...e, extra: true }).paths).toContain('/extra');
  });

  it('rejects an unknown type and data that does not fit its type', () => {
    const events = deliveryStream('d1');
    expect(errorsOf({ ...events[2], type: 'DroneTeleported' }).paths).toContain('/type');
    expect(errorsOf({ ...events[2], data: { droneId: 'drone-7' } }).paths).toContain('/data/distanceToPickupM');
    expect(errorsOf({ ...events[0], data: { ...events[0]!.data, pickup: { lat: 95, lon: 0 } } }).paths).toContain(
      '/data/pickup/lat',
    );
    expect(errorsOf({ ...events[2], data: 'drone-7' }).paths).toContain('/data');
  });

  it("tolerates additive data fields: a rejected event would stall its delivery's view", () => {
    const e = deliveryStream('d1')[2]!;
    expect(validateDeliveryEvent({ ...e, data: { ...e.data, note: 'new in a later producer' } }).ok).toBe(true);
  });

  it('says so when the schema version is not one it reads', () => {
    const e = deliveryStream('d1')[0]!;
    expect(errorsOf({ ...e, schemaVersion: 2 })).toEqual({
      reason: 'UnsupportedSchemaVersion',
      paths: ['/schemaVersion'],
    });
  });

  it('holds the stream invariant: sequence 1 is DeliveryRequested, and only sequence 1 is', () => {
    const events = deliveryStream('d1');
    expect(errorsOf({ ...events[1], sequence: 1 }).paths).toEqual(['/sequence']);
    expect(errorsOf({ ...events[0], sequence: 4 }).paths).toEqual(['/sequence']);
  });

  it('decodes host-shaped bodies: parsed objects, raw strings and bytes; poison keeps its raw body', () => {
    const e = deliveryStream('d1')[0]!;
    const text = JSON.stringify(e);
    expect(decodeDeliveryEvent(JSON.parse(text), utf8)).toEqual({ ok: true, event: e });
    expect(decodeDeliveryEvent(text, utf8)).toEqual({ ok: true, event: e });
    expect(decodeDeliveryEvent(new TextEncoder().encode(text), utf8)).toEqual({ ok: true, event: e });
    expect(decodeDeliveryEvent('{"type": nope', utf8)).toMatchObject({
      ok: false,
      reason: 'NotJson',
      rawBody: '{"type": nope',
    });
    expect(decodeDeliveryEvent('x'.repeat(70_000), utf8)).toMatchObject({ ok: false, reason: 'BodyTooLarge' });
    expect(decodeDeliveryEvent({ hello: 'world' }, utf8)).toMatchObject({
      ok: false,
      reason: 'SchemaViolation',
      rawBody: '{"hello":"world"}',
    });
    expect(decodeDeliveryEvent(42, utf8)).toMatchObject({ ok: false, reason: 'SchemaViolation', rawBody: '42' });
  });
});
