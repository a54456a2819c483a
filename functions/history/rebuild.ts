/**
 * Rebuilding status views (the store/view half): events from any source (the lake archive, a
 * file, a test) are appended idempotently to the event store, then every delivery they touched
 * has its view recomputed from its whole stored stream and replaced when it differs. Views are
 * disposable: running a rebuild twice, or beside the projector, converges on the same views,
 * because both write `foldStatus(gaplessPrefix(stream))` under ETag checks.
 */
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { DeliveryEvent } from '../../domain/delivery/events';
import { err, ok, validationFailed } from '../../domain/shared/errors';
import type { FieldError, Result } from '../../domain/shared/errors';
import { isCalendarInstant } from '../../domain/telemetry/schema';
import { RebuildRequestSchema } from '../http/schemas';
import type { RebuildRequest } from '../http/schemas';
import { forEachBounded } from '../resilience/retry';
import { appendAll, refreshView } from './project';
import type { AppendCounts, HistoryDeps } from './project';

export interface RebuildProgress extends AppendCounts {
  readonly phase: 'events' | 'views' | 'done';
  readonly eventsRead: number;
  /** Events of other deliveries when a delivery filter is set. */
  readonly skipped: number;
  readonly deliveries: number;
  readonly viewsWritten: number;
  readonly viewsUnchanged: number;
  readonly viewsEmpty: number;
}

export type RebuildReport = RebuildProgress;

export interface RebuildOptions extends HistoryDeps {
  /** Only this delivery's events and view. */
  readonly deliveryId?: string;
  readonly onProgress?: (progress: RebuildProgress) => void;
  /** Progress is reported every this many events read or views done (default 500). */
  readonly progressEvery?: number;
  /** Events appended per round (default 64); appends within a round run in parallel per delivery. */
  readonly chunkSize?: number;
}

export async function rebuildViews(
  events: AsyncIterable<DeliveryEvent>,
  options: RebuildOptions,
): Promise<RebuildReport> {
  const every = Math.max(1, options.progressEvery ?? 500);
  const chunkSize = Math.max(1, options.chunkSize ?? 64);
  const parallelism = options.parallelism ?? 16;
  const counts: AppendCounts = { appended: 0, duplicates: 0, conflicts: 0 };
  const touched = new Set<string>();
  let eventsRead = 0;
  let skipped = 0;
  let viewsWritten = 0;
  let viewsUnchanged = 0;
  let viewsEmpty = 0;
  let viewsDone = 0;
  const snapshot = (phase: RebuildProgress['phase']): RebuildProgress => ({
    phase,
    eventsRead,
    skipped,
    ...counts,
    deliveries: touched.size,
    viewsWritten,
    viewsUnchanged,
    viewsEmpty,
  });

  let chunk: DeliveryEvent[] = [];
  const flush = async (): Promise<void> => {
    const groups = new Map<string, DeliveryEvent[]>();
    for (const e of chunk) groups.set(e.deliveryId, [...(groups.get(e.deliveryId) ?? []), e]);
    chunk = [];
    await forEachBounded([...groups.values()], parallelism, (group) => appendAll(group, options, counts));
  };

  for await (const event of events) {
    eventsRead += 1;
    if (options.deliveryId !== undefined && event.deliveryId !== options.deliveryId) {
      skipped += 1;
    } else {
      touched.add(event.deliveryId);
      chunk.push(event);
      if (chunk.length >= chunkSize) await flush();
    }
    if (eventsRead % every === 0) options.onProgress?.(snapshot('events'));
  }
  await flush();
  options.onProgress?.(snapshot('events'));

  await forEachBounded([...touched], parallelism, async (deliveryId) => {
    const result = await refreshView(deliveryId, options, 'replace');
    if (result.outcome === 'written') viewsWritten += 1;
    else if (result.outcome === 'unchanged') viewsUnchanged += 1;
    else viewsEmpty += 1;
    viewsDone += 1;
    if (viewsDone % every === 0) options.onProgress?.(snapshot('views'));
  });
  const done = snapshot('done');
  options.onProgress?.(done);
  return done;
}

const compiledRequest = TypeCompiler.Compile(RebuildRequestSchema);

/** `{ from, to, deliveryId? }` as the HTTP function and the CLI take it: real instants, from before to. */
export function checkRebuildRequest(body: unknown): Result<RebuildRequest> {
  const invalid = (errors: FieldError[]) => err(validationFailed('The rebuild request is not valid.', errors));
  if (!compiledRequest.Check(body)) {
    return invalid(
      [...compiledRequest.Errors(body)].slice(0, 10).map((e) => ({ path: e.path || '/', message: e.message })),
    );
  }
  // Date.parse rolls 30 February over into March; the calendar check does not.
  for (const field of ['from', 'to'] as const) {
    if (!isCalendarInstant(body[field]))
      return invalid([{ path: `/${field}`, message: 'not a real calendar instant' }]);
  }
  if (!(Date.parse(body.from) < Date.parse(body.to))) return invalid([{ path: '/to', message: 'must be after from' }]);
  return ok(body);
}
