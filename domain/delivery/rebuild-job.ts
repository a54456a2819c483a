/**
 * The view-rebuild job's plan and bookkeeping, pure: the archive range cut into slices the
 * orchestration hands to one activity each, the job's id derived from its range (so the same
 * range asked again while it runs is the same job), the counts summed as slices finish, and the
 * job status a caller sees for the orchestration's runtime status.
 */

/** One slice of archive time per activity: small enough to finish well inside an activity timeout. */
export const REBUILD_SLICE_MS = 3_600_000;

export interface RebuildRange {
  readonly from: string;
  readonly to: string;
  readonly deliveryId?: string;
}

/** `[from, to)` in slices of `sliceMs`, aligned to `from`; the last one ends at `to`. */
export function planRebuildSlices(range: RebuildRange, sliceMs = REBUILD_SLICE_MS): RebuildRange[] {
  const from = Date.parse(range.from);
  const to = Date.parse(range.to);
  if (!(from < to) || !(sliceMs > 0)) return [];
  const slices: RebuildRange[] = [];
  for (let start = from; start < to; start += sliceMs) {
    const end = Math.min(start + sliceMs, to);
    slices.push({
      from: new Date(start).toISOString(),
      to: new Date(end).toISOString(),
      ...(range.deliveryId !== undefined ? { deliveryId: range.deliveryId } : {}),
    });
  }
  return slices;
}

/**
 * The job id of a range: the instants in milliseconds (two spellings of one instant are one job)
 * and the delivery filter. Only characters Durable Functions allows in instance ids.
 */
export function rebuildJobId(range: RebuildRange): string {
  return `rebuild-${Date.parse(range.from)}-${Date.parse(range.to)}-${range.deliveryId ?? 'all'}`;
}

/** What every slice reports (RebuildReport's counters). */
export interface RebuildCounts {
  readonly eventsRead: number;
  readonly skipped: number;
  readonly appended: number;
  readonly duplicates: number;
  readonly conflicts: number;
  /** A delivery is counted once per slice that touched it. */
  readonly deliveries: number;
  readonly viewsWritten: number;
  readonly viewsUnchanged: number;
  readonly viewsEmpty: number;
}

export const NO_COUNTS: RebuildCounts = {
  eventsRead: 0,
  skipped: 0,
  appended: 0,
  duplicates: 0,
  conflicts: 0,
  deliveries: 0,
  viewsWritten: 0,
  viewsUnchanged: 0,
  viewsEmpty: 0,
};

export function addCounts(a: RebuildCounts, b: RebuildCounts): RebuildCounts {
  return {
    eventsRead: a.eventsRead + b.eventsRead,
    skipped: a.skipped + b.skipped,
    appended: a.appended + b.appended,
    duplicates: a.duplicates + b.duplicates,
    conflicts: a.conflicts + b.conflicts,
    deliveries: a.deliveries + b.deliveries,
    viewsWritten: a.viewsWritten + b.viewsWritten,
    viewsUnchanged: a.viewsUnchanged + b.viewsUnchanged,
    viewsEmpty: a.viewsEmpty + b.viewsEmpty,
  };
}

/** The job's progress: its custom status while it runs, its output once done. */
export interface RebuildJobProgress extends RebuildCounts {
  readonly phase: 'running' | 'done';
  readonly slicesDone: number;
  readonly slicesTotal: number;
  readonly from: string;
  readonly to: string;
  readonly deliveryId?: string;
}

export function jobProgress(
  range: RebuildRange,
  slicesTotal: number,
  slicesDone: number,
  counts: RebuildCounts,
): RebuildJobProgress {
  return {
    phase: slicesDone >= slicesTotal ? 'done' : 'running',
    slicesDone,
    slicesTotal,
    from: range.from,
    to: range.to,
    ...(range.deliveryId !== undefined ? { deliveryId: range.deliveryId } : {}),
    ...counts,
  };
}

export type RebuildJobStatus = 'Running' | 'Completed' | 'Failed';

/** The orchestration's runtime status as the job API names it. */
export function jobStatusOf(runtimeStatus: string): RebuildJobStatus {
  switch (runtimeStatus) {
    case 'Completed':
      return 'Completed';
    case 'Failed':
    case 'Terminated':
      return 'Failed';
    default:
      // Pending, Running, ContinuedAsNew, Suspended: not finished.
      return 'Running';
  }
}
