/**
 * The delivery report as a specification: given archived delivery events, then the report —
 * percentiles, on time against deadline or ETA, failures by reason, compensations per step,
 * hourly buckets by outcome, duplicates and range edges. And the chart drawn from it.
 */
import { describe, expect, it } from 'vitest';
import { deliveryEvent } from '../../../domain/delivery/events';
import type { DeliveryEvent } from '../../../domain/delivery/events';
import { buildReport, checkReportRange, percentile } from '../../../domain/delivery/report';
import { reportSvg } from '../../../functions/ops/report-chart';

const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);
const iso = (minutes: number): string => new Date(T0 + minutes * 60_000).toISOString();
const RANGE = { from: iso(0), to: iso(180) };

interface Plan {
  readonly requestedAt: number;
  readonly deadline?: number;
  readonly eta?: number;
  readonly end?:
    | { readonly kind: 'completed'; readonly at: number }
    | { readonly kind: 'failed'; readonly at: number; readonly code: string; readonly reason: string }
    | { readonly kind: 'cancelled'; readonly at: number };
  readonly compensate?: boolean;
}

/** One delivery's stream, with times in minutes after T0. */
function delivery(id: string, p: Plan): DeliveryEvent[] {
  let seq = 0;
  const e = <K extends Parameters<typeof deliveryEvent>[0]>(
    type: K,
    minute: number,
    data: Parameters<typeof deliveryEvent<K>>[5],
  ): DeliveryEvent => deliveryEvent(type, id, ++seq, iso(minute), id, data);
  const out: DeliveryEvent[] = [
    e('DeliveryRequested', p.requestedAt, {
      ownerId: 'o',
      pickup: { lat: 1, lon: 1 },
      dropoff: { lat: 2, lon: 2 },
      expedited: false,
      package: { size: 'small', weightKg: 1 },
      ...(p.deadline !== undefined ? { deadline: iso(p.deadline) } : {}),
    }),
    e('PackageCreated', p.requestedAt, { packageId: `pkg-${id}`, size: 'small', weightKg: 1 }),
  ];
  if (p.eta !== undefined) {
    out.push(
      e('DroneAssigned', p.requestedAt + 1, { droneId: 'dr', distanceToPickupM: 100 }),
      e('DeliveryScheduled', p.requestedAt + 1, {
        droneId: 'dr',
        pickupEta: iso(p.requestedAt + 5),
        dropoffEta: iso(p.eta),
      }),
    );
  }
  if (p.end?.kind === 'completed') out.push(e('DeliveryCompleted', p.end.at, { droneId: 'dr' }));
  if (p.end?.kind === 'failed') out.push(e('DeliveryFailed', p.end.at, { code: p.end.code, reason: p.end.reason }));
  if (p.end?.kind === 'cancelled') out.push(e('DeliveryCancelled', p.end.at, { reason: 'by owner' }));
  if (p.compensate) {
    if (p.eta !== undefined) out.push(e('DroneReleased', (p.end?.at ?? 0) + 1, { droneId: 'dr', reason: 'undo' }));
    out.push(e('PackageCancelled', (p.end?.at ?? 0) + 1, { packageId: `pkg-${id}`, reason: 'undo' }));
  }
  return out;
}

describe('percentile (nearest rank)', () => {
  it('is null for no values and the value itself for one', () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([7], 50)).toBe(7);
    expect(percentile([7], 99)).toBe(7);
  });

  it('picks the value at rank ceil(p/100 * n)', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 95)).toBe(95);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile([10, 20, 30, 40], 50)).toBe(20);
    expect(percentile([10, 20, 30, 40], 95)).toBe(40);
  });
});

describe('buildReport', () => {
  it('counts a delivery on time at or before its deadline, late after it, and judges by the ETA when there is no deadline', () => {
    const events = [
      ...delivery('deadline-kept', { requestedAt: 0, deadline: 30, eta: 45, end: { kind: 'completed', at: 30 } }),
      ...delivery('deadline-missed', { requestedAt: 0, deadline: 30, eta: 20, end: { kind: 'completed', at: 31 } }),
      ...delivery('eta-kept', { requestedAt: 10, eta: 40, end: { kind: 'completed', at: 35 } }),
      ...delivery('eta-missed', { requestedAt: 10, eta: 40, end: { kind: 'completed', at: 50 } }),
      ...delivery('no-promise', { requestedAt: 10, end: { kind: 'completed', at: 20 } }),
    ];
    const r = buildReport(events, RANGE);
    expect(r.deliveries).toBe(5);
    expect(r.outcomes).toEqual({ delivered: 5, failed: 0, cancelled: 0, inFlight: 0 });
    expect(r.onTime).toEqual({ onTime: 2, late: 2, unknown: 1, rate: 0.5 });
  });

  it('measures request to delivered with p50/p95/p99 over delivered deliveries only', () => {
    const events = [
      ...Array.from({ length: 20 }, (_, i) =>
        delivery(`d${i}`, { requestedAt: 0, eta: 100, end: { kind: 'completed', at: i + 1 } }),
      ).flat(),
      ...delivery('failed', {
        requestedAt: 0,
        end: { kind: 'failed', at: 90, code: 'PickupSlaMissed', reason: 'pickup SLA missed' },
      }),
    ];
    const r = buildReport(events, RANGE);
    expect(r.requestToDeliveredMs).toEqual({ count: 20, p50: 10 * 60_000, p95: 19 * 60_000, p99: 20 * 60_000 });
  });

  it('groups failures by code, most frequent first, and counts compensations per step', () => {
    const events = [
      ...delivery('f1', {
        requestedAt: 0,
        eta: 30,
        end: { kind: 'failed', at: 20, code: 'PickupSlaMissed', reason: 'pickup SLA missed' },
        compensate: true,
      }),
      ...delivery('f2', {
        requestedAt: 1,
        eta: 30,
        end: { kind: 'failed', at: 21, code: 'PickupSlaMissed', reason: 'pickup SLA missed again' },
        compensate: true,
      }),
      ...delivery('f3', {
        requestedAt: 2,
        end: { kind: 'failed', at: 22, code: 'NoDroneAvailable', reason: 'no drone' },
        compensate: true,
      }),
      ...delivery('c1', { requestedAt: 3, eta: 30, end: { kind: 'cancelled', at: 5 }, compensate: true }),
    ];
    const r = buildReport(events, RANGE);
    expect(r.outcomes).toEqual({ delivered: 0, failed: 3, cancelled: 1, inFlight: 0 });
    expect(r.failuresByReason).toEqual([
      { code: 'PickupSlaMissed', reason: 'pickup SLA missed', count: 2 },
      { code: 'NoDroneAvailable', reason: 'no drone', count: 1 },
    ]);
    expect(r.compensationsPerStep).toEqual([
      { step: 'CreatePackage', compensation: 'CancelPackage', count: 4 },
      { step: 'AssignDrone', compensation: 'ReleaseDrone', count: 3 },
    ]);
    expect(r.onTime.rate).toBeNull();
  });

  it('buckets deliveries by the UTC hour they were requested in, by outcome, over every hour of the range', () => {
    const events = [
      ...delivery('h0-on', { requestedAt: 5, eta: 40, end: { kind: 'completed', at: 30 } }),
      ...delivery('h0-late', { requestedAt: 59, eta: 70, end: { kind: 'completed', at: 90 } }),
      ...delivery('h1-fail', { requestedAt: 60, end: { kind: 'failed', at: 70, code: 'X', reason: 'x' } }),
      ...delivery('h2-flying', { requestedAt: 150, eta: 200 }),
    ];
    const r = buildReport(events, RANGE);
    expect(r.hourly.map((b) => b.hour)).toEqual([iso(0), iso(60), iso(120)]);
    expect(r.hourly[0]).toMatchObject({ onTime: 1, late: 1, failed: 0, inFlight: 0 });
    expect(r.hourly[1]).toMatchObject({ onTime: 0, failed: 1 });
    expect(r.hourly[2]).toMatchObject({ inFlight: 1, cancelled: 0 });
    expect(r.outcomes.inFlight).toBe(1);
  });

  it('reads the archive at least once: a duplicate event counts once', () => {
    const one = delivery('dup', { requestedAt: 0, eta: 40, end: { kind: 'completed', at: 30 }, compensate: false });
    const r = buildReport([...one, ...one, one[0] as DeliveryEvent], RANGE);
    expect(r.eventsRead).toBe(one.length * 2 + 1);
    expect(r.duplicates).toBe(one.length + 1);
    expect(r.deliveries).toBe(1);
    expect(r.requestToDeliveredMs.count).toBe(1);
  });

  it('covers only deliveries requested in [from, to): later events of earlier deliveries and requests at `to` are left out', () => {
    const earlier = delivery('earlier', { requestedAt: -30, eta: 40, end: { kind: 'completed', at: 20 } }).filter(
      (e) => e.type !== 'DeliveryRequested',
    );
    const atTo = delivery('at-to', { requestedAt: 180 });
    const inside = delivery('inside', { requestedAt: 179 });
    const r = buildReport([...earlier, ...atTo, ...inside], RANGE);
    expect(r.deliveries).toBe(1);
    expect(r.outcomes.inFlight).toBe(1);
    expect(r.hourly[2]?.inFlight).toBe(1);
  });

  it('works on an empty range', () => {
    const r = buildReport([], { from: iso(0), to: iso(30) });
    expect(r).toMatchObject({
      deliveries: 0,
      eventsRead: 0,
      onTime: { rate: null },
      requestToDeliveredMs: { count: 0, p50: null, p95: null, p99: null },
      failuresByReason: [],
    });
    expect(r.hourly).toHaveLength(1);
    expect(reportSvg(r)).toMatch(/^<svg [^>]*>[\s\S]*<\/svg>\n$/);
  });
});

describe('checkReportRange', () => {
  it('accepts ISO-8601 UTC instants with from before to', () => {
    expect(checkReportRange('2026-11-22T10:00:00Z', '2026-11-22T12:00Z')).toEqual({
      ok: true,
      value: { from: '2026-11-22T10:00:00.000Z', to: '2026-11-22T12:00:00.000Z' },
    });
  });

  it('names each bad bound', () => {
    const r = checkReportRange('yesterday', undefined);
    expect(r.ok).toBe(false);
    if (r.ok || r.error.code !== 'ValidationFailed') throw new Error('expected a validation failure');
    expect(r.error.errors.map((e) => e.path)).toEqual(['/from', '/to']);
    expect(r.error.errors[0]?.message).toContain('"yesterday" is not an ISO-8601 UTC instant');
  });

  it('refuses an empty or reversed range, a non-UTC time and a range past the bound', () => {
    expect(checkReportRange('2026-11-22T10:00:00Z', '2026-11-22T10:00:00Z').ok).toBe(false);
    expect(checkReportRange('2026-11-22T10:00:00+01:00', '2026-11-22T12:00:00Z').ok).toBe(false);
    expect(checkReportRange('2026-01-01T00:00:00Z', '2026-06-01T00:00:00Z').ok).toBe(false);
  });
});

describe('reportSvg', () => {
  it('draws one stacked bar segment per outcome present, with a legend and the on-time rate', () => {
    const events = [
      ...delivery('a', { requestedAt: 5, eta: 40, end: { kind: 'completed', at: 30 } }),
      ...delivery('b', { requestedAt: 6, end: { kind: 'failed', at: 30, code: 'X', reason: 'x <&> y' } }),
      ...delivery('c', { requestedAt: 70, eta: 80, end: { kind: 'completed', at: 90 } }),
    ];
    const svg = reportSvg(buildReport(events, RANGE));
    expect(svg.match(/<rect [^>]*><title>/g)).toHaveLength(3);
    expect(svg).toContain('1 delivered on time');
    expect(svg).toContain('1 failed');
    expect(svg).toContain('1 delivered late');
    expect(svg).toContain('3 deliveries requested, on time 50.0%');
    for (const label of ['Delivered on time', 'Delivered late', 'Failed', 'Cancelled', 'In flight'])
      expect(svg).toContain(`>${label}</text>`);
  });
});
