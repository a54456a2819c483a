/**
 * The telemetry ingestion use case for one Event Hubs batch: poison events go to the dead-letter
 * sink and the rest of the batch goes on; valid events are coalesced per drone and written once
 * per drone with a version-guarded write; milestones newer than the stored state are raised
 * before the write, so a crash between the two re-raises (the saga ignores duplicates) rather
 * than losing one. Transient store failures are retried here, then rethrown for the function's
 * retry policy: every step is idempotent, so re-running the batch is safe.
 */
import { decodeTelemetry, groupByDrone, planDrone } from '../../domain/telemetry/batch';
import type { DroneStateStore, MilestoneSink } from '../../domain/telemetry/ports';
import type { CircuitBreaker } from '../resilience/circuit-breaker';
import { forEachBounded, withRetry } from '../resilience/retry';
import { decodeBatch, utf8 } from '../shared/decode-batch';
import type { RetryPolicy } from '../../domain/shared/retry';
import type { DeadLetterSink, EventOrigin } from '../../domain/shared/ports';

export interface IngestDeps {
  readonly store: DroneStateStore;
  readonly deadLetters: DeadLetterSink;
  readonly milestones: MilestoneSink;
  readonly breaker: CircuitBreaker;
  readonly retry: RetryPolicy;
  readonly now: () => Date;
  readonly wait?: (ms: number) => Promise<void>;
  /** Drones written in parallel within one batch (a bulkhead on the store). */
  readonly parallelism?: number;
  /** Structured log of what happened to individual events (dead letters, milestones). */
  readonly log?: (entry: Record<string, unknown>) => void;
}

export interface BatchReport {
  readonly events: number;
  readonly valid: number;
  readonly deadLettered: number;
  readonly drones: number;
  readonly writes: number;
  readonly conflicts: number;
  readonly staleSkipped: number;
  readonly milestones: number;
  /** Now minus the oldest / newest enqueued time in the batch, in ms (when the host gave them). */
  readonly maxLatenessMs?: number;
  readonly minLatenessMs?: number;
}

export async function ingestBatch(
  bodies: readonly unknown[],
  origins: readonly EventOrigin[],
  deps: IngestDeps,
): Promise<BatchReport> {
  const now = deps.now();
  const { valid, deadLettered } = await decodeBatch(
    'telemetry',
    bodies,
    origins,
    (body) => {
      const d = decodeTelemetry(body, utf8);
      return d.ok ? { ok: true, value: d.telemetry } : d;
    },
    deps,
  );

  const groups = groupByDrone(valid);
  let writes = 0;
  let conflicts = 0;
  let staleSkipped = 0;
  let milestones = 0;
  const guarded = <T>(call: () => Promise<T>): Promise<T> =>
    withRetry(() => deps.breaker.execute(call), deps.retry, deps.wait);

  await forEachBounded([...groups.entries()], deps.parallelism ?? 16, async ([droneId, events]) => {
    for (;;) {
      const stored = await guarded(() => deps.store.read(droneId));
      const plan = planDrone(stored?.state, events);
      if (!plan.next) {
        staleSkipped += plan.staleEvents;
        return;
      }
      let raised = 0;
      for (const m of plan.milestones) {
        if ((await withRetry(() => deps.milestones.raise(m), deps.retry, deps.wait)) === false) continue;
        raised += 1;
        deps.log?.({
          event: 'telemetry.milestone',
          deliveryId: m.deliveryId,
          milestone: m.name,
          droneId: m.droneId,
          sequence: m.sequence,
        });
      }
      const next = plan.next;
      const written = await guarded(() => deps.store.write(next, stored?.version));
      if (written) {
        writes += 1;
        staleSkipped += plan.staleEvents;
        milestones += raised;
        return;
      }
      // Another writer moved the drone meanwhile: re-read and plan again against its state.
      conflicts += 1;
    }
  });

  const enqueued = origins
    .map((o) => (o.enqueuedTimeUtc ? Date.parse(o.enqueuedTimeUtc) : NaN))
    .filter((t) => Number.isFinite(t));
  return {
    events: bodies.length,
    valid: valid.length,
    deadLettered,
    drones: groups.size,
    writes,
    conflicts,
    staleSkipped,
    milestones,
    ...(enqueued.length > 0
      ? { maxLatenessMs: now.getTime() - Math.min(...enqueued), minLatenessMs: now.getTime() - Math.max(...enqueued) }
      : {}),
  };
}
