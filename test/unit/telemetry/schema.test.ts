import { describe, expect, it } from 'vitest';
import { MAX_TELEMETRY_BODY_BYTES, validateTelemetry } from '../../../domain/telemetry/schema';
import { decodeTelemetry } from '../../../domain/telemetry/batch';
import { telemetry } from '../../support/telemetry';

const utf8 = (b: Uint8Array): string => Buffer.from(b).toString('utf8');
const without = (key: string): Record<string, unknown> => {
  const t: Record<string, unknown> = { ...telemetry() };
  delete t[key];
  return t;
};
const rejects = (body: unknown, path: string): void => {
  const v = validateTelemetry(body);
  expect(v.ok).toBe(false);
  if (!v.ok) expect(v.errors.map((e) => e.path).join(' ')).toContain(path);
};

describe('telemetry schema v1', () => {
  it('accepts the contract example, with and without deliveryId', () => {
    expect(validateTelemetry(telemetry()).ok).toBe(true);
    expect(validateTelemetry(telemetry({ deliveryId: 'd-1', status: 'EnRouteToPickup' })).ok).toBe(true);
  });

  it.each(['schemaVersion', 'droneId', 'sequence', 'timestamp', 'position', 'batteryPct', 'speedMps', 'status'])(
    'rejects a body without %s',
    (field) => rejects(without(field), `/${field}`),
  );

  it.each([
    ['lat', 90, true],
    ['lat', -90, true],
    ['lat', 90.000001, false],
    ['lat', -90.1, false],
    ['lon', 180, true],
    ['lon', -180, true],
    ['lon', 180.5, false],
    ['lon', -181, false],
  ] as const)('position.%s = %d is %s', (axis, value, valid) => {
    const t = telemetry();
    const body = { ...t, position: { ...t.position, [axis]: value } };
    expect(validateTelemetry(body).ok).toBe(valid);
  });

  it.each([
    ['batteryPct', 0, true],
    ['batteryPct', 100, true],
    ['batteryPct', -0.1, false],
    ['batteryPct', 100.1, false],
    ['speedMps', 0, true],
    ['speedMps', -1, false],
    ['sequence', 0, true],
    ['sequence', -1, false],
    ['sequence', 1.5, false],
  ] as const)('%s = %d is %s', (field, value, valid) => {
    expect(validateTelemetry({ ...telemetry(), [field]: value }).ok).toBe(valid);
  });

  it('rejects NaN and infinities wherever a number is expected', () => {
    rejects({ ...telemetry(), batteryPct: Number.NaN }, '/batteryPct');
    rejects({ ...telemetry(), speedMps: Number.POSITIVE_INFINITY }, '/speedMps');
    rejects({ ...telemetry(), position: { lat: Number.NaN, lon: 0, altitudeM: 0 } }, '/position/lat');
  });

  it('rejects an unknown status', () => rejects({ ...telemetry(), status: 'Hovering' }, '/status'));

  it('rejects ids that are empty, too long or have other characters', () => {
    rejects({ ...telemetry(), droneId: '' }, '/droneId');
    rejects({ ...telemetry(), droneId: 'x'.repeat(65) }, '/droneId');
    rejects({ ...telemetry(), droneId: '../etc' }, '/droneId');
    rejects({ ...telemetry(), deliveryId: 'd'.repeat(65) }, '/deliveryId');
    expect(validateTelemetry({ ...telemetry(), droneId: 'x'.repeat(64) }).ok).toBe(true);
  });

  it('rejects wrong types', () => {
    rejects({ ...telemetry(), sequence: '42' }, '/sequence');
    rejects({ ...telemetry(), position: [47, -122, 100] }, '/position');
    rejects({ ...telemetry(), deliveryId: 7 }, '/deliveryId');
  });

  it('rejects timestamps that are not UTC instants, or not real dates', () => {
    rejects({ ...telemetry(), timestamp: '2026-11-22T10:00:05+01:00' }, '/timestamp');
    rejects({ ...telemetry(), timestamp: 'yesterday' }, '/timestamp');
    rejects({ ...telemetry(), timestamp: '2026-13-45T10:00:05Z' }, '/timestamp');
    expect(validateTelemetry({ ...telemetry(), timestamp: '2026-11-22T10:00:05.123Z' }).ok).toBe(true);
  });

  it('is closed: an unknown field breaks it, and another schemaVersion is named as such', () => {
    rejects({ ...telemetry(), heading: 90 }, '/heading');
    const v = validateTelemetry({ ...telemetry(), schemaVersion: 2 });
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.reason).toBe('UnsupportedSchemaVersion');
  });

  it('rejects values that are not objects at all', () => {
    for (const body of [null, 42, 'text', [], true]) expect(validateTelemetry(body).ok).toBe(false);
  });
});

describe('decoding a body as the host hands it over', () => {
  it('accepts an already-parsed object, a JSON string and JSON bytes alike', () => {
    const t = telemetry();
    for (const body of [t, JSON.stringify(t), Buffer.from(JSON.stringify(t))]) {
      const d = decodeTelemetry(body, utf8);
      expect(d.ok).toBe(true);
      if (d.ok) expect(d.telemetry).toEqual(t);
    }
  });

  it('names a body that is not JSON, keeping the raw text', () => {
    const d = decodeTelemetry('{"droneId": oops', utf8);
    expect(d).toMatchObject({ ok: false, reason: 'NotJson', rawBody: '{"droneId": oops' });
  });

  it('refuses an oversized body before parsing it', () => {
    const huge = JSON.stringify({ ...telemetry(), pad: 'x'.repeat(MAX_TELEMETRY_BODY_BYTES) });
    const d = decodeTelemetry(huge, utf8);
    expect(d).toMatchObject({ ok: false, reason: 'BodyTooLarge' });
  });

  it('keeps a schema-breaking parsed body as JSON text for the dead letter', () => {
    const d = decodeTelemetry({ droneId: 'x' }, utf8);
    expect(d.ok).toBe(false);
    if (!d.ok) {
      expect(d.reason).toBe('SchemaViolation');
      expect(JSON.parse(d.rawBody)).toEqual({ droneId: 'x' });
      expect(d.errors.length).toBeGreaterThan(0);
    }
  });
});

describe('the calendar check behind the timestamp pattern', () => {
  it('knows month lengths and leap years', () => {
    expect(validateTelemetry({ ...telemetry(), timestamp: '2028-02-29T00:00:00Z' }).ok).toBe(true);
    expect(validateTelemetry({ ...telemetry(), timestamp: '2026-02-29T00:00:00Z' }).ok).toBe(false);
    expect(validateTelemetry({ ...telemetry(), timestamp: '2100-02-29T00:00:00Z' }).ok).toBe(false);
    expect(validateTelemetry({ ...telemetry(), timestamp: '2000-02-29T00:00:00Z' }).ok).toBe(true);
    expect(validateTelemetry({ ...telemetry(), timestamp: '2026-04-31T00:00:00Z' }).ok).toBe(false);
    expect(validateTelemetry({ ...telemetry(), timestamp: '2026-12-31T23:59:59Z' }).ok).toBe(true);
    expect(validateTelemetry({ ...telemetry(), timestamp: '2026-12-31T24:00:00Z' }).ok).toBe(false);
    expect(validateTelemetry({ ...telemetry(), timestamp: '2026-12-31T23:60:00Z' }).ok).toBe(false);
    expect(validateTelemetry({ ...telemetry(), timestamp: '2026-00-10T00:00:00Z' }).ok).toBe(false);
  });
});
