/**
 * The view rebuild as a durable job (`POST /api/ops/rebuild-views` starts it): the orchestration
 * cuts the archive range into slices, hands each to the `RebuildViewsSlice` activity (which
 * replays that slice of the archive into the event store and refreshes the views it touched),
 * and keeps the summed counts in its custom status, so a caller polling the job sees progress.
 * Slices run one after another: a delivery's view is recomputed from its whole stored stream each
 * time, so the last slice that touched it leaves the right view.
 */
import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import type { OrchestrationContext } from 'durable-functions';
import { addCounts, jobProgress, NO_COUNTS, planRebuildSlices } from '../../domain/delivery/rebuild-job';
import type { RebuildCounts, RebuildJobProgress, RebuildRange } from '../../domain/delivery/rebuild-job';
import { composition } from '../composition';
import { ACTIVITIES, ORCHESTRATIONS } from '../names';
import { rebuildViews } from './rebuild';
import type { RebuildReport } from './rebuild';

export interface RebuildJobInput {
  readonly range: RebuildRange;
  readonly retry: { readonly attempts: number; readonly firstRetryMs: number };
}

function countsOf(report: RebuildReport): RebuildCounts {
  const { eventsRead, skipped, appended, duplicates, conflicts, deliveries, viewsWritten, viewsUnchanged, viewsEmpty } = report;
  return { eventsRead, skipped, appended, duplicates, conflicts, deliveries, viewsWritten, viewsUnchanged, viewsEmpty };
}

export function* rebuildViewsJob(context: OrchestrationContext): Generator<df.Task, RebuildJobProgress, unknown> {
  const input = context.df.getInput<RebuildJobInput>();
  const slices = planRebuildSlices(input.range);
  const retry = new df.RetryOptions(input.retry.firstRetryMs, input.retry.attempts);
  retry.backoffCoefficient = 2;
  let counts = NO_COUNTS;
  context.df.setCustomStatus(jobProgress(input.range, slices.length, 0, counts));
  for (const [i, slice] of slices.entries()) {
    const report = (yield context.df.callActivityWithRetry(ACTIVITIES.rebuildViewsSlice, retry, slice)) as RebuildReport;
    counts = addCounts(counts, countsOf(report));
    context.df.setCustomStatus(jobProgress(input.range, slices.length, i + 1, counts));
  }
  return jobProgress(input.range, slices.length, slices.length, counts);
}

df.app.orchestration(ORCHESTRATIONS.rebuildViewsJob, rebuildViewsJob);

export async function rebuildViewsSlice(input: unknown, context: InvocationContext): Promise<RebuildReport> {
  const slice = input as RebuildRange;
  const c = composition();
  const archive = c.archiveReader();
  // The starter checked this; an app whose lake setting vanished since fails the job, visibly.
  if (!archive) throw new Error('No archive is configured for this app (ArchiveLake__dfsServiceUri).');
  return rebuildViews(archive.events(slice), {
    ...c.historyDeps,
    ...(slice.deliveryId !== undefined ? { deliveryId: slice.deliveryId } : {}),
    onProgress: (p) => {
      if (p.phase === 'done') context.info(JSON.stringify({ event: 'history.rebuild.slice', from: slice.from, to: slice.to, ...p }));
    },
  });
}

df.app.activity(ACTIVITIES.rebuildViewsSlice, { handler: rebuildViewsSlice });
