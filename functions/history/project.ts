/**
 * The delivery-history projector's use case for one Event Hubs batch: poison is dead-lettered
 * and the rest goes on; every valid event is appended to the event store (idempotent per
 * (deliveryId, sequence)); then each delivery the batch touched has its status view recomputed
 * from its stored stream and written with optimistic concurrency.
 *
 * Why recompute from the store instead of applying the batch to the stored view: events arrive
 * duplicated and out of order, across batches and partitions' redeliveries. The store is the one
 * place where they meet, deduplicated and sortable, so the view is always
 * `foldStatus(gaplessPrefix(stream))` — exactly the in-order fold of events 1..n, whatever the
 * arrival order. An event past a gap is stored but not applied; the event that fills the gap
 * later recomputes the view over both. `version` therefore only ever advances over a gapless
 * prefix, and a view write only happens when it moves `version` forward.
 *
 * The common case skips the stream query, whose cost grows with the stream: when a delivery's
 * events in the batch were all newly appended, run without a gap, start right after the stored
 * view's version, and nothing is stored after the last of them (one point read of the next slot,
 * which catches events that arrived early and wait past a gap this batch fills), the view is
 * the stored view folded forward over the batch, which is what the recompute would give. Any
 * other batch (a gap, a duplicate, a conflict, an out-of-order start, a lost write race)
 * recomputes as above.
 *
 * Transient store failures are retried here, then rethrown so the function's retry policy
 * re-runs the batch: every step (append, dead letter, conditional view write) is idempotent.
 */
import type { DeliveryEvent } from '../../domain/delivery/events';
import type { DeliveryEventStore, StatusViewStore, VersionedStatusView } from '../../domain/delivery/ports';
import { decodeDeliveryEvent } from '../../domain/delivery/schema';
import { foldStatus, gaplessPrefix, isFinished } from '../../domain/delivery/status';
import type { DeliveryStatusView } from '../../domain/delivery/status';
import { stableStringify } from '../../domain/delivery/request';
import { forEachBounded, withRetry } from '../resilience/retry';
import type { RetryPolicy } from '../../domain/shared/retry';
import { decodeBatch, utf8 } from '../shared/decode-batch';
import type { DeadLetterSink, EventOrigin } from '../../domain/shared/ports';

export const DEAD_LETTER_SOURCE = 'delivery-events';

export interface HistoryDeps {
  readonly events: DeliveryEventStore;
  readonly views: StatusViewStore;
  readonly retry: RetryPolicy;
  /** Finished deliveries' views expire this long after their last write. */
  readonly statusViewTtlSeconds: number;
  readonly wait?: (ms: number) => Promise<void>;
  /** Deliveries worked on in parallel (a bulkhead on the store). */
  readonly parallelism?: number;
  readonly log?: (entry: Record<string, unknown>) => void;
}

export interface ProjectorDeps extends HistoryDeps {
  readonly deadLetters: DeadLetterSink;
  readonly now: () => Date;
  /** Wraps one delivery's append and view write (the trigger opens its trace span there). */
  readonly perDelivery?: (deliveryId: string, work: () => Promise<void>) => Promise<void>;
}

export type RefreshMode =
  /** Write only when the recomputed view is further along than the stored one (the projector). */
  | 'advance'
  /** Write whenever the recomputed view differs from the stored one (a rebuild). */
  | 'replace';

export interface RefreshResult {
  readonly outcome: 'written' | 'unchanged' | 'empty';
  readonly view?: DeliveryStatusView;
  /** Stored events past the first gap, waiting for it to be filled. */
  readonly waiting: number;
}

/** Bounds the read-recompute-write loop when other writers keep winning; the batch is then retried. */
const MAX_VIEW_ATTEMPTS = 10;

export async function refreshView(deliveryId: string, deps: HistoryDeps, mode: RefreshMode): Promise<RefreshResult> {
  const retried = <T>(call: () => Promise<T>): Promise<T> => withRetry(call, deps.retry, deps.wait);
  for (let attempt = 1; attempt <= MAX_VIEW_ATTEMPTS; attempt++) {
    // The view is read before the stream: a writer that lands in between changes the ETag, so
    // our write fails and we recompute, never replacing a newer view with an older one.
    const stored = await retried(() => deps.views.read(deliveryId));
    const stream = await retried(() => deps.events.readStream(deliveryId));
    const prefix = gaplessPrefix(stream);
    const waiting = stream.length - prefix.length;
    const next = foldStatus(prefix);
    if (!next) return { outcome: 'empty', waiting };
    if (stored) {
      const unchanged =
        mode === 'advance'
          ? stored.view.version >= next.version
          : stableStringify(stored.view) === stableStringify(next);
      if (unchanged) return { outcome: 'unchanged', view: stored.view, waiting };
    }
    const ttl = isFinished(next.stage) ? deps.statusViewTtlSeconds : undefined;
    if (await retried(() => deps.views.write(next, stored?.etag, ttl)))
      return { outcome: 'written', view: next, waiting };
  }
  throw Object.assign(new Error(`status view of ${deliveryId} kept changing under ${MAX_VIEW_ATTEMPTS} attempts`), {
    transient: true,
  });
}

export interface AppendCounts {
  appended: number;
  duplicates: number;
  conflicts: number;
}

/** Appends one delivery's events in sequence order, counting outcomes; conflicts are logged, the stored event stands. */
export async function appendAll(
  events: readonly DeliveryEvent[],
  deps: HistoryDeps,
  counts: AppendCounts,
): Promise<void> {
  for (const event of [...events].sort((a, b) => a.sequence - b.sequence)) {
    const result = await withRetry(() => deps.events.append(event), deps.retry, deps.wait);
    switch (result.outcome) {
      case 'appended':
        counts.appended += 1;
        break;
      case 'duplicate':
        counts.duplicates += 1;
        break;
      case 'conflict':
        counts.conflicts += 1;
        // The first event stored at a sequence is the delivery's history; a different one at
        // the same slot is a producer bug worth an alert, not a reason to stall the batch.
        deps.log?.({
          event: 'history.sequenceConflict',
          level: 'warning',
          deliveryId: event.deliveryId,
          sequence: event.sequence,
          storedEventId: result.existing.eventId,
          storedType: result.existing.type,
          rejectedEventId: event.eventId,
          rejectedType: event.type,
        });
        break;
      default: {
        const _exhaustive: never = result;
        throw new Error(`unknown append outcome ${JSON.stringify(_exhaustive)}`);
      }
    }
  }
}

export interface ProjectionReport extends AppendCounts {
  readonly events: number;
  readonly valid: number;
  readonly deadLettered: number;
  readonly deliveries: number;
  viewsWritten: number;
  viewsUnchanged: number;
  /** Events stored past a gap, not yet in their view. */
  waiting: number;
  /** Deliveries whose view was folded forward over the batch, without reading their stream. */
  incremental: number;
}

/** Events of one batch per delivery, exact duplicates within the batch dropped. */
function byDelivery(events: readonly DeliveryEvent[]): Map<string, DeliveryEvent[]> {
  const groups = new Map<string, Map<string, DeliveryEvent>>();
  for (const e of events) {
    let g = groups.get(e.deliveryId);
    if (!g) groups.set(e.deliveryId, (g = new Map()));
    const key = stableStringify(e);
    if (!g.has(key)) g.set(key, e);
  }
  return new Map([...groups].map(([id, g]) => [id, [...g.values()]]));
}

/** The batch's events of one delivery, sorted, if they continue the stored view without a gap; else undefined. */
function continuation(
  sorted: readonly DeliveryEvent[],
  stored: VersionedStatusView | undefined,
): readonly DeliveryEvent[] | undefined {
  let expected = (stored?.view.version ?? 0) + 1;
  for (const e of sorted) {
    if (e.sequence !== expected) return undefined;
    expected += 1;
  }
  return sorted;
}

/**
 * Applies a batch that continues the stored view (see the header); 'fallback' when it does not,
 * or when another writer moved the view meanwhile.
 */
async function advanceIncrementally(
  deliveryId: string,
  sorted: readonly DeliveryEvent[],
  deps: HistoryDeps,
): Promise<'written' | 'fallback'> {
  const retried = <T>(call: () => Promise<T>): Promise<T> => withRetry(call, deps.retry, deps.wait);
  const stored = await retried(() => deps.views.read(deliveryId));
  const run = continuation(sorted, stored);
  const last = run?.[run.length - 1];
  if (!run || !last) return 'fallback';
  if (await retried(() => deps.events.has(deliveryId, last.sequence + 1))) return 'fallback';
  const next = foldStatus(run, stored?.view);
  if (!next) return 'fallback';
  const ttl = isFinished(next.stage) ? deps.statusViewTtlSeconds : undefined;
  return (await retried(() => deps.views.write(next, stored?.etag, ttl))) ? 'written' : 'fallback';
}

export async function projectBatch(
  bodies: readonly unknown[],
  origins: readonly EventOrigin[],
  deps: ProjectorDeps,
): Promise<ProjectionReport> {
  const { valid, deadLettered } = await decodeBatch(
    DEAD_LETTER_SOURCE,
    bodies,
    origins,
    (body) => {
      const d = decodeDeliveryEvent(body, utf8);
      return d.ok ? { ok: true, value: d.event } : d;
    },
    deps,
  );

  const groups = byDelivery(valid);
  const report: ProjectionReport = {
    events: bodies.length,
    valid: valid.length,
    deadLettered,
    deliveries: groups.size,
    appended: 0,
    duplicates: 0,
    conflicts: 0,
    viewsWritten: 0,
    viewsUnchanged: 0,
    waiting: 0,
    incremental: 0,
  };
  await forEachBounded([...groups], deps.parallelism ?? 16, async ([deliveryId, events]) => {
    const project = async (): Promise<void> => {
      const counts: AppendCounts = { appended: 0, duplicates: 0, conflicts: 0 };
      await appendAll(events, deps, counts);
      report.appended += counts.appended;
      report.duplicates += counts.duplicates;
      report.conflicts += counts.conflicts;
      if (counts.appended === events.length) {
        const sorted = [...events].sort((x, y) => x.sequence - y.sequence);
        if ((await advanceIncrementally(deliveryId, sorted, deps)) === 'written') {
          report.viewsWritten += 1;
          report.incremental += 1;
          return;
        }
      }
      const refreshed = await refreshView(deliveryId, deps, 'advance');
      if (refreshed.outcome === 'written') report.viewsWritten += 1;
      else report.viewsUnchanged += 1;
      report.waiting += refreshed.waiting;
    };
    await (deps.perDelivery ? deps.perDelivery(deliveryId, project) : project());
  });
  return report;
}
