/**
 * A saga's durable history as the console's timeline: spans for activity calls (steps,
 * compensations, publishing), retries numbered only after a failure, the backoff timer after a
 * failure told from the saga's own timers, external events as points; in the local engine's
 * shape and in the Durable extension's.
 */
import { describe, expect, it } from 'vitest';
import { sagaTimeline } from '../../../functions/ops/saga-timeline';

const t = (s: number): string => new Date(Date.UTC(2026, 11, 2, 6, 0, s)).toISOString();

describe('sagaTimeline', () => {
  it('pairs each call with its completion, numbers retries after a failure, and marks the backoff timer', () => {
    const history = [
      { EventType: 'ExecutionStarted', EventId: -1, Timestamp: t(0), Name: 'deliverySaga' },
      {
        EventType: 'TaskScheduled',
        EventId: 0,
        Timestamp: t(1),
        Name: 'EmitDeliveryEvent',
        Input: { event: { type: 'DeliveryRequested' } },
      },
      { EventType: 'TaskCompleted', EventId: -1, Timestamp: t(2), TaskScheduledId: 0 },
      { EventType: 'TaskScheduled', EventId: 1, Timestamp: t(2), Name: 'CreatePackage' },
      { EventType: 'TaskFailed', EventId: -1, Timestamp: t(3), TaskScheduledId: 1, Reason: 'store unavailable' },
      { EventType: 'TimerCreated', EventId: 2, Timestamp: t(3), FireAt: t(5) },
      { EventType: 'TimerFired', EventId: -1, Timestamp: t(5), TimerId: 2 },
      { EventType: 'TaskScheduled', EventId: 3, Timestamp: t(5), Name: 'CreatePackage' },
      { EventType: 'TaskCompleted', EventId: -1, Timestamp: t(6), TaskScheduledId: 3 },
      {
        EventType: 'TaskScheduled',
        EventId: 4,
        Timestamp: t(6),
        Name: 'EmitDeliveryEvent',
        Input: { event: { type: 'PackageCreated' } },
      },
      { EventType: 'TimerCreated', EventId: 5, Timestamp: t(7), FireAt: t(900) },
      { EventType: 'EventRaised', EventId: -1, Timestamp: t(8), Name: 'CancelRequested' },
      { EventType: 'TaskScheduled', EventId: 6, Timestamp: t(8), Name: 'CancelPackage' },
      { EventType: 'TaskCompleted', EventId: -1, Timestamp: t(9), TaskScheduledId: 6 },
    ];
    const entries = sagaTimeline('d-1', history);
    expect(entries.map((e) => [e.kind, e.name, e.outcome, e.attempt])).toEqual([
      ['orchestration', 'deliverySaga', undefined, undefined],
      ['emit', 'EmitDeliveryEvent', 'completed', 1],
      ['step', 'CreatePackage', 'failed', 1],
      ['retryTimer', 'retry backoff', 'fired', undefined],
      ['step', 'CreatePackage', 'completed', 2],
      ['emit', 'EmitDeliveryEvent', 'open', 1],
      ['timer', 'timer', 'open', undefined],
      ['event', 'CancelRequested', undefined, undefined],
      ['compensation', 'CancelPackage', 'completed', 1],
    ]);
    expect(entries[1]).toMatchObject({ at: t(1), endedAt: t(2), detail: 'DeliveryRequested' });
    expect(entries[2]).toMatchObject({ detail: 'store unavailable', endedAt: t(3) });
    expect(entries.every((e) => e.instanceId === 'd-1')).toBe(true);
  });

  it("reads the Durable extension's shape, where a completion carries its function name and scheduled time", () => {
    const entries = sagaTimeline('d-2', [
      { EventType: 'ExecutionStarted', Timestamp: t(0), Name: 'deliverySaga' },
      { EventType: 'TaskCompleted', Timestamp: t(4), FunctionName: 'AssignDrone', ScheduledTime: t(1) },
      {
        EventType: 'TaskFailed',
        Timestamp: t(6),
        FunctionName: 'ReleaseDrone',
        ScheduledTime: t(5),
        FailureDetails: { ErrorMessage: 'boom' },
      },
      { EventType: 'TimerFired', Timestamp: t(9), FireAt: t(9) },
      { EventType: 'ExecutionCompleted', Timestamp: t(10), OrchestrationStatus: 'Completed' },
    ]);
    expect(entries.map((e) => [e.kind, e.name, e.outcome, e.at, e.endedAt])).toEqual([
      ['orchestration', 'deliverySaga', undefined, t(0), undefined],
      ['step', 'AssignDrone', 'completed', t(1), t(4)],
      ['compensation', 'ReleaseDrone', 'failed', t(5), t(6)],
      ['timer', 'timer', 'fired', t(9), t(9)],
      ['orchestration', 'Completed', undefined, t(10), undefined],
    ]);
    expect(entries[2]?.detail).toBe('boom');
  });
});
