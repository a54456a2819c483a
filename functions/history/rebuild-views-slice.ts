/**
 * Activity RebuildViewsSlice: one slice of a rebuild job (rebuild-views-job.ts) replays its
 * part of the archive into the event store and refreshes the status views it touched.
 */
import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import type { RebuildRange } from '../../domain/delivery/rebuild-job';
import { composition } from '../composition';
import { ACTIVITIES } from '../names';
import { rebuildViews } from './rebuild';
import type { RebuildReport } from './rebuild';

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
      if (p.phase === 'done')
        context.info(JSON.stringify({ event: 'history.rebuild.slice', from: slice.from, to: slice.to, ...p }));
    },
  });
}

df.app.activity(ACTIVITIES.rebuildViewsSlice, { handler: rebuildViewsSlice });
