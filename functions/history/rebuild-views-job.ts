/**
 * The view rebuild as a durable job (`POST /api/ops/rebuild-views` starts it): the orchestration
 * cuts the archive range into slices, hands each to the `RebuildViewsSlice` activity
 * (rebuild-views-slice.ts), and keeps the summed counts in its custom status, so a caller
 * polling the job sees progress.
 * Slices run one after another: a delivery's view is recomputed from its whole stored stream each
 * time, so the last slice that touched it leaves the right view.
 */
import * as df from 'durable-functions';
import type { OrchestrationContext } from 'durable-functions';
import { addCounts, jobProgress, NO_COUNTS, planRebuildSlices } from '../../domain/delivery/rebuild-job';
import type { RebuildCounts, RebuildJobProgress, RebuildRange } from '../../domain/delivery/rebuild-job';
import type { RetryPolicy } from '../../domain/shared/retry';
import { ACTIVITIES, ORCHESTRATIONS } from '../names';
import { durableRetryOptions } from '../resilience/durable-retry';
import type { RebuildReport } from './rebuild';

export interface RebuildJobInput {
  readonly range: RebuildRange;
  readonly retry: RetryPolicy;
}

function countsOf(report: RebuildReport): RebuildCounts {
  const { eventsRead, skipped, appended, duplicates, conflicts, deliveries, viewsWritten, viewsUnchanged, viewsEmpty } =
    report;
  return { eventsRead, skipped, appended, duplicates, conflicts, deliveries, viewsWritten, viewsUnchanged, viewsEmpty };
}

export function* rebuildViewsJob(context: OrchestrationContext): Generator<df.Task, RebuildJobProgress, unknown> {
  const input = context.df.getInput<RebuildJobInput>();
  const slices = planRebuildSlices(input.range);
  const retry = durableRetryOptions(input.retry);
  let counts = NO_COUNTS;
  context.df.setCustomStatus(jobProgress(input.range, slices.length, 0, counts));
  for (const [i, slice] of slices.entries()) {
    const report = (yield context.df.callActivityWithRetry(
      ACTIVITIES.rebuildViewsSlice,
      retry,
      slice,
    )) as RebuildReport;
    counts = addCounts(counts, countsOf(report));
    context.df.setCustomStatus(jobProgress(input.range, slices.length, i + 1, counts));
  }
  return jobProgress(input.range, slices.length, slices.length, counts);
}

df.app.orchestration(ORCHESTRATIONS.rebuildViewsJob, rebuildViewsJob);
