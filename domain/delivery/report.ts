/**
 * The delivery report ("Delivery Analysis"): what the archived delivery events of a time range
 * say about the service, as a pure function of those events. The tool (`npm run report`) and the
 * admin route read the Capture archive and hand the events here.
 *
 * Definitions (docs: README "Delivery report"):
 * - The report covers the deliveries *requested* in [from, to) (their `DeliveryRequested`), with
 *   their outcome as far as the range's events tell: events after `to` are not read, so a
 *   delivery still flying at `to` counts as in flight.
 * - On time: a delivered delivery whose `DeliveryCompleted` happened at or before its promise,
 *   which is the request's `deadline` when the caller gave one, else the `dropoffEta` its
 *   `DeliveryScheduled` announced. A delivery with neither is counted as `unknown`, and the rate
 *   is on time / (on time + late); failed and cancelled deliveries are reported as such, never
 *   as late.
 * - Request to delivered: `DeliveryCompleted.occurredAt - DeliveryRequested.occurredAt`, with
 *   nearest-rank percentiles.
 * - Compensations per step: the compensation events the saga emits, by the forward step they
 *   undo (`PackageCancelled` undoes CreatePackage, `DroneReleased` undoes AssignDrone).
 *   Cancelling a schedule emits no event, so ScheduleDelivery's compensation does not show here.
 * - Hourly buckets: deliveries by the UTC hour they were requested in, by outcome.
 *
 * The archive is at least once: events are deduplicated by event id first.
 */
import type { DeliveryEvent } from './events';
import type { FieldError, Result } from '../shared/errors';
import { err, ok, validationFailed } from '../shared/errors';
import type { DomainError } from '../shared/errors';

export interface ReportRange {
  readonly from: string;
  readonly to: string;
}

export type Outcome = 'delivered' | 'failed' | 'cancelled' | 'inFlight';

export interface Percentiles {
  readonly count: number;
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
}

export interface HourBucket {
  /** The hour's start, ISO-8601 UTC. */
  readonly hour: string;
  readonly onTime: number;
  readonly late: number;
  /** Delivered with no deadline or ETA to judge by. */
  readonly delivered: number;
  readonly failed: number;
  readonly cancelled: number;
  readonly inFlight: number;
}

export interface DeliveryReport {
  readonly range: ReportRange;
  readonly eventsRead: number;
  readonly duplicates: number;
  /** Deliveries requested in the range. */
  readonly deliveries: number;
  readonly outcomes: Readonly<Record<Outcome, number>>;
  readonly onTime: {
    readonly onTime: number;
    readonly late: number;
    readonly unknown: number;
    readonly rate: number | null;
  };
  readonly requestToDeliveredMs: Percentiles;
  readonly failuresByReason: readonly { readonly code: string; readonly reason: string; readonly count: number }[];
  readonly compensationsPerStep: readonly {
    readonly step: 'CreatePackage' | 'AssignDrone';
    readonly compensation: 'CancelPackage' | 'ReleaseDrone';
    readonly count: number;
  }[];
  readonly hourly: readonly HourBucket[];
}

const HOUR_MS = 3_600_000;
/** The longest range hourly buckets are drawn for (about two months of hours). */
export const MAX_REPORT_HOURS = 24 * 62;

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?Z$/;

/** Checks `from`/`to` (ISO-8601 UTC instants, from before to, at most MAX_REPORT_HOURS apart). */
export function checkReportRange(from: unknown, to: unknown): Result<ReportRange, DomainError> {
  const errors: FieldError[] = [];
  const instant = (name: string, v: unknown): number | undefined => {
    if (typeof v !== 'string' || v.trim() === '') {
      errors.push({ path: `/${name}`, message: 'is required: an ISO-8601 UTC instant such as 2026-11-22T00:00:00Z' });
      return undefined;
    }
    const ms = Date.parse(v);
    if (!ISO_UTC.test(v) || Number.isNaN(ms)) {
      errors.push({ path: `/${name}`, message: `"${v}" is not an ISO-8601 UTC instant (like 2026-11-22T00:00:00Z)` });
      return undefined;
    }
    return ms;
  };
  const f = instant('from', from);
  const t = instant('to', to);
  if (f !== undefined && t !== undefined) {
    if (f >= t) errors.push({ path: '/to', message: 'must be after from' });
    else if (t - f > MAX_REPORT_HOURS * HOUR_MS)
      errors.push({ path: '/to', message: `the range may span at most ${MAX_REPORT_HOURS / 24} days` });
  }
  if (errors.length > 0 || f === undefined || t === undefined)
    return err(validationFailed('The report range is not valid.', errors));
  return ok({ from: new Date(f).toISOString(), to: new Date(t).toISOString() });
}

/** Nearest-rank percentile of sorted values; null for none. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] ?? null;
}

interface Delivery {
  requestedAt?: number;
  deadline?: number;
  dropoffEta?: number;
  completedAt?: number;
  failed?: { code: string; reason: string };
  cancelled?: boolean;
  packagesCancelled: number;
  dronesReleased: number;
}

function fold(events: readonly DeliveryEvent[]): { deliveries: Map<string, Delivery>; duplicates: number } {
  const seen = new Set<string>();
  const deliveries = new Map<string, Delivery>();
  let duplicates = 0;
  for (const e of events) {
    if (seen.has(e.eventId)) {
      duplicates += 1;
      continue;
    }
    seen.add(e.eventId);
    let d = deliveries.get(e.deliveryId);
    if (!d) deliveries.set(e.deliveryId, (d = { packagesCancelled: 0, dronesReleased: 0 }));
    const at = Date.parse(e.occurredAt);
    switch (e.type) {
      case 'DeliveryRequested':
        d.requestedAt = at;
        if (e.data.deadline !== undefined) d.deadline = Date.parse(e.data.deadline);
        break;
      case 'DeliveryScheduled':
        d.dropoffEta = Date.parse(e.data.dropoffEta);
        break;
      case 'DeliveryCompleted':
        d.completedAt = at;
        break;
      case 'DeliveryFailed':
        d.failed = { code: e.data.code, reason: e.data.reason };
        break;
      case 'DeliveryCancelled':
        d.cancelled = true;
        break;
      case 'PackageCancelled':
        d.packagesCancelled += 1;
        break;
      case 'DroneReleased':
        d.dronesReleased += 1;
        break;
      case 'PackageCreated':
      case 'DroneAssigned':
      case 'PackagePickedUp':
      case 'DeliveryInTransit':
        break;
      default: {
        const _exhaustive: never = e;
        throw new Error(`unknown delivery event ${JSON.stringify(_exhaustive)}`);
      }
    }
  }
  return { deliveries, duplicates };
}

type Verdict = 'onTime' | 'late' | 'delivered' | 'failed' | 'cancelled' | 'inFlight';

function verdictOf(d: Delivery): Verdict {
  if (d.completedAt !== undefined) {
    const promise = d.deadline ?? d.dropoffEta;
    if (promise === undefined || Number.isNaN(promise)) return 'delivered';
    return d.completedAt <= promise ? 'onTime' : 'late';
  }
  if (d.failed) return 'failed';
  if (d.cancelled) return 'cancelled';
  return 'inFlight';
}

export function buildReport(events: readonly DeliveryEvent[], range: ReportRange): DeliveryReport {
  const from = Date.parse(range.from);
  const to = Date.parse(range.to);
  const { deliveries, duplicates } = fold(events);
  const firstHour = Math.floor(from / HOUR_MS) * HOUR_MS;
  const hours = Math.max(1, Math.ceil((to - firstHour) / HOUR_MS));
  const buckets = Array.from({ length: Math.min(hours, MAX_REPORT_HOURS) }, (_, i) => ({
    hour: new Date(firstHour + i * HOUR_MS).toISOString(),
    onTime: 0,
    late: 0,
    delivered: 0,
    failed: 0,
    cancelled: 0,
    inFlight: 0,
  }));
  const outcomes: Record<Outcome, number> = { delivered: 0, failed: 0, cancelled: 0, inFlight: 0 };
  const onTime = { onTime: 0, late: 0, unknown: 0 };
  const durations: number[] = [];
  const failures = new Map<string, { code: string; reason: string; count: number }>();
  let packagesCancelled = 0;
  let dronesReleased = 0;
  let counted = 0;

  for (const d of deliveries.values()) {
    if (d.requestedAt === undefined || d.requestedAt < from || d.requestedAt >= to) continue;
    counted += 1;
    const verdict = verdictOf(d);
    const bucket = buckets[Math.floor((d.requestedAt - firstHour) / HOUR_MS)];
    if (bucket) bucket[verdict] += 1;
    if (verdict === 'onTime' || verdict === 'late' || verdict === 'delivered') {
      outcomes.delivered += 1;
      if (verdict === 'delivered') onTime.unknown += 1;
      else onTime[verdict] += 1;
      if (d.completedAt !== undefined) durations.push(d.completedAt - d.requestedAt);
    } else {
      outcomes[verdict] += 1;
    }
    if (verdict === 'failed' && d.failed) {
      const f = failures.get(d.failed.code) ?? { code: d.failed.code, reason: d.failed.reason, count: 0 };
      f.count += 1;
      failures.set(d.failed.code, f);
    }
    packagesCancelled += d.packagesCancelled;
    dronesReleased += d.dronesReleased;
  }

  durations.sort((a, b) => a - b);
  const judged = onTime.onTime + onTime.late;
  return {
    range: { from: range.from, to: range.to },
    eventsRead: events.length,
    duplicates,
    deliveries: counted,
    outcomes,
    onTime: { ...onTime, rate: judged === 0 ? null : onTime.onTime / judged },
    requestToDeliveredMs: {
      count: durations.length,
      p50: percentile(durations, 50),
      p95: percentile(durations, 95),
      p99: percentile(durations, 99),
    },
    failuresByReason: [...failures.values()].sort((a, b) => b.count - a.count || a.code.localeCompare(b.code)),
    compensationsPerStep: [
      { step: 'CreatePackage', compensation: 'CancelPackage', count: packagesCancelled },
      { step: 'AssignDrone', compensation: 'ReleaseDrone', count: dronesReleased },
    ],
    hourly: buckets,
  };
}
