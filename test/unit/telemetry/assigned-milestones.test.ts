import { describe, expect, it } from 'vitest';
import type { Reservation } from '../../../domain/delivery/ports';
import type { Milestone } from '../../../domain/telemetry/milestones';
import type { DroneState } from '../../../domain/telemetry/drone-state';
import { CircuitBreaker } from '../../../functions/resilience/circuit-breaker';
import { fromAssignedDrone } from '../../../functions/telemetry/assigned-milestones';
import { ingestBatch } from '../../../functions/telemetry/ingest';
import { telemetry } from '../../support/telemetry';

const milestone = (droneId: string, deliveryId = 'delivery-1'): Milestone => ({
  deliveryId,
  name: 'DeliveryCompleted',
  droneId,
  sequence: 7,
  occurredAt: '2026-12-03T10:00:00.000Z',
  position: { lat: 47.61, lon: -122.33, altitudeM: 0 },
});

function world(reservations: Record<string, string>) {
  const raised: Milestone[] = [];
  const logged: Record<string, unknown>[] = [];
  const sink = fromAssignedDrone(
    { raise: async (m) => void raised.push(m) },
    {
      findByDrone: async (droneId): Promise<Reservation | undefined> => {
        const deliveryId = reservations[droneId];
        return deliveryId ? { droneId, deliveryId, reservedAt: '2026-12-03T09:59:00.000Z' } : undefined;
      },
    },
    (entry) => logged.push(entry),
  );
  return { sink, raised, logged };
}

describe('milestones reach the saga only from the drone reserved for their delivery', () => {
  it('raises a report from the drone reserved for the delivery', async () => {
    const w = world({ 'drone-a': 'delivery-1' });
    await w.sink.raise(milestone('drone-a'));
    expect(w.raised.map((m) => m.droneId)).toEqual(['drone-a']);
    expect(w.logged).toEqual([]);
  });

  it('drops a report from a free drone, which the saga could otherwise count once it gets that drone', async () => {
    const w = world({});
    expect(await w.sink.raise(milestone('drone-a'))).toBe(false);
    expect(w.raised).toEqual([]);
    expect(w.logged).toEqual([
      expect.objectContaining({ event: 'telemetry.milestone.wrongDrone', droneId: 'drone-a', reservedFor: null }),
    ]);
  });

  it('drops a report from a drone reserved for another delivery, and says whose it is', async () => {
    const w = world({ 'drone-a': 'delivery-2' });
    await w.sink.raise(milestone('drone-a'));
    expect(w.raised).toEqual([]);
    expect(w.logged[0]).toMatchObject({ deliveryId: 'delivery-1', reservedFor: 'delivery-2' });
  });

  it('passes on a failure to read the reservation, so the batch is retried rather than the report lost', async () => {
    const sink = fromAssignedDrone(
      { raise: async () => undefined },
      {
        findByDrone: async () => {
          throw new Error('503 from the store');
        },
      },
    );
    await expect(sink.raise(milestone('drone-a'))).rejects.toThrow('503');
  });

  it('ingestion neither logs nor counts a milestone that was not raised, and still keeps the drone state', async () => {
    const w = world({ 'drone-b': 'delivery-2' });
    let written: DroneState | undefined;
    const logs: Record<string, unknown>[] = [];
    const reports = [
      telemetry({ droneId: 'drone-a', sequence: 1, status: 'Delivered', deliveryId: 'delivery-1' }),
      telemetry({ droneId: 'drone-b', sequence: 1, status: 'Delivered', deliveryId: 'delivery-2' }),
    ];
    const report = await ingestBatch(
      reports.map((t) => JSON.stringify(t)),
      reports.map(() => ({ eventHubName: 'telemetry' })),
      {
        store: {
          read: async () => undefined,
          write: async (next) => {
            if (next.droneId === 'drone-a') written = next;
            return true;
          },
        },
        deadLetters: { put: async () => undefined },
        milestones: w.sink,
        breaker: new CircuitBreaker('test', { failureThreshold: 100, openMs: 1000 }),
        retry: { attempts: 1, firstRetryMs: 1, maxRetryMs: 1 },
        now: () => new Date('2026-11-22T10:00:10Z'),
        log: (entry) => logs.push(entry),
      },
    );
    expect(w.raised.map((m) => m.droneId)).toEqual(['drone-b']);
    expect(report.milestones).toBe(1);
    expect(logs.filter((l) => l.event === 'telemetry.milestone').map((l) => l.droneId)).toEqual(['drone-b']);
    expect(written?.status).toBe('Delivered');
  });
});
