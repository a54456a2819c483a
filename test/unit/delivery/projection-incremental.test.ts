/**
 * The projector's incremental path: a batch that continues the stored view costs one append per
 * event, no stream query and one view write per delivery; a gap, a duplicate, an out-of-order
 * start, or an early event waiting past the gap the batch fills falls back to the recompute.
 * Property: for any arrival order with duplicates and any batching, the incremental projector's
 * view after every batch equals the recompute-only projector's.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { DeliveryEvent } from '../../../domain/delivery/events';
import type { AppendOutcome } from '../../../domain/delivery/ports';
import { foldStatus } from '../../../domain/delivery/status';
import { projectBatch } from '../../../functions/history/project';
import type { ProjectionReport, ProjectorDeps } from '../../../functions/history/project';
import { deliveryStream } from '../../support/delivery';
import type { Ending } from '../../support/delivery';
import { MemoryEventStore, MemoryViewStore } from '../../support/memory-history';

/** Counts the calls the header talks about. */
class CountingEventStore extends MemoryEventStore {
  appends = 0;
  streamQueries = 0;
  /** With false, the store claims every next slot is taken: the projector can only recompute. */
  constructor(private readonly allowIncremental = true) {
    super();
  }
  override async append(event: DeliveryEvent): Promise<AppendOutcome> {
    this.appends += 1;
    return super.append(event);
  }
  override async readStream(deliveryId: string): Promise<DeliveryEvent[]> {
    this.streamQueries += 1;
    return super.readStream(deliveryId);
  }
  override async has(deliveryId: string, sequence: number): Promise<boolean> {
    return !this.allowIncremental || super.has(deliveryId, sequence);
  }
}

class CountingViewStore extends MemoryViewStore {
  writes = 0;
  override async write(...args: Parameters<MemoryViewStore['write']>): Promise<boolean> {
    this.writes += 1;
    return super.write(...args);
  }
}

function setup(allowIncremental = true) {
  const events = new CountingEventStore(allowIncremental);
  const views = new CountingViewStore();
  const deps: ProjectorDeps = {
    events,
    views,
    deadLetters: { put: async () => undefined },
    retry: { attempts: 1, firstRetryMs: 0, maxRetryMs: 0 },
    statusViewTtlSeconds: 86_400,
    now: () => new Date('2026-11-22T12:00:00Z'),
  };
  return {
    events,
    views,
    project: (batch: readonly DeliveryEvent[]): Promise<ProjectionReport> => projectBatch(batch, [], deps),
  };
}

const stream = deliveryStream('d-inc', 'delivered');
const at = (...sequences: number[]): DeliveryEvent[] =>
  sequences.map((s) => stream.find((e) => e.sequence === s) as DeliveryEvent);

describe('incremental projection', () => {
  it('applies batches that continue the view with one append per event, no stream query and one view write per delivery', async () => {
    const { events, views, project } = setup();
    const other = deliveryStream('d-other', 'cancelled');
    const first = await project([...at(1, 2, 3), ...other.slice(0, 2)]);
    const second = await project([...at(4, 5), ...other.slice(2)]);
    expect(first.incremental + second.incremental).toBe(4);
    expect(events.appends).toBe(5 + other.length);
    expect(events.streamQueries).toBe(0);
    expect(views.writes).toBe(4);
    expect((await views.read('d-inc'))?.view).toEqual(foldStatus(at(1, 2, 3, 4, 5)));
    expect((await views.read('d-other'))?.view).toEqual(foldStatus(other));
    expect(views.docs.get('d-other')?.ttl).toBe(86_400);
  });

  it('recomputes on a gap, and again when the gap is filled, since the event past it waits in the store', async () => {
    const { events, views, project } = setup();
    await project(at(1, 2));
    const gap = await project(at(4));
    expect(gap.incremental).toBe(0);
    expect(gap.waiting).toBe(1);
    expect(events.streamQueries).toBe(1);
    expect((await views.read('d-inc'))?.view.version).toBe(2);
    const filled = await project(at(3));
    expect(filled.incremental).toBe(0);
    expect(events.streamQueries).toBe(2);
    expect((await views.read('d-inc'))?.view).toEqual(foldStatus(at(1, 2, 3, 4)));
  });

  it('recomputes on a duplicate (a redelivered batch) and on a batch that starts before the view', async () => {
    const { events, views, project } = setup();
    await project(at(1, 2, 3));
    const redelivered = await project(at(2, 3));
    expect(redelivered.duplicates).toBe(2);
    expect(redelivered.incremental).toBe(0);
    expect(events.streamQueries).toBe(1);
    // 3 again with the new 4 and 5: one duplicate is enough to take the careful path.
    const overlapping = await project(at(5, 3, 4));
    expect(overlapping.incremental).toBe(0);
    expect(events.streamQueries).toBe(2);
    expect((await views.read('d-inc'))?.view).toEqual(foldStatus(at(1, 2, 3, 4, 5)));
  });

  it('recomputes when the batch does not start right after the stored version, even with no view yet', async () => {
    const { events, views, project } = setup();
    const report = await project(at(2, 3));
    expect(report.incremental).toBe(0);
    expect(events.streamQueries).toBe(1);
    expect(await views.read('d-inc')).toBeUndefined();
    await project(at(1));
    expect((await views.read('d-inc'))?.view).toEqual(foldStatus(at(1, 2, 3)));
  });
});

const endings: Ending[] = ['delivered', 'cancelled', 'failed', 'inFlight'];
const arrival = fc
  .record({ ending: fc.constantFrom(...endings), length: fc.integer({ min: 1, max: 9 }) })
  .chain(({ ending, length }) => {
    const events = deliveryStream('d-prop', ending).slice(0, length);
    return fc.record({
      arrived: fc.array(fc.integer({ min: 0, max: events.length - 1 }), { maxLength: events.length }).chain((dups) =>
        fc.shuffledSubarray([...events, ...dups.map((i) => events[i] as DeliveryEvent)], {
          minLength: events.length + dups.length,
        }),
      ),
      inOrder: fc.boolean(),
      events: fc.constant(events),
      cuts: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 10 }),
    });
  });

describe('incremental projection (property)', () => {
  it('after every batch, the incremental view equals the recompute-only view, for any order, duplicates and batching', async () => {
    await fc.assert(
      fc.asyncProperty(arrival, async ({ arrived, inOrder, events, cuts }) => {
        const incoming = inOrder ? events : arrived;
        const incremental = setup(true);
        const recompute = setup(false);
        let i = 0;
        for (let k = 0; i < incoming.length; k++) {
          const batch = incoming.slice(i, i + (cuts[k % cuts.length] ?? 1));
          i += batch.length;
          await incremental.project(batch);
          await recompute.project(batch);
          expect(incremental.views.docs.get('d-prop')?.view).toEqual(recompute.views.docs.get('d-prop')?.view);
          expect(incremental.views.docs.get('d-prop')?.ttl).toEqual(recompute.views.docs.get('d-prop')?.ttl);
        }
        expect(incremental.views.docs.get('d-prop')?.view).toEqual(foldStatus(events));
        // Events in order, each once: the stream is never queried.
        if (inOrder) expect(incremental.events.streamQueries).toBe(0);
      }),
      { numRuns: 300, seed: 15_2026 },
    );
  });
});
