/**
 * Property: whatever order and however often a delivery's events arrive, split into whatever
 * batches, the projector ends with the same stored stream and the same view as in-order
 * delivery, and a view never claims a version past a gap.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { DeliveryEvent } from '../../../domain/delivery/events';
import { foldStatus, gaplessPrefix } from '../../../domain/delivery/status';
import { projectBatch } from '../../../functions/history/project';
import type { ProjectorDeps } from '../../../functions/history/project';
import { deliveryStream } from '../../support/delivery';
import type { Ending } from '../../support/delivery';
import { MemoryEventStore, MemoryViewStore } from '../../support/memory-history';
import type { DeadLetter } from '../../../domain/shared/ports';

const endings: Ending[] = ['delivered', 'cancelled', 'failed', 'inFlight'];

/** A delivery's stream cut at any length, and an arrival: a shuffle of its events with duplicates. */
const arrival = fc
  .record({ ending: fc.constantFrom(...endings), length: fc.integer({ min: 1, max: 7 }) })
  .chain(({ ending, length }) => {
    const events = deliveryStream('d-prop', ending).slice(0, length);
    return fc.record({
      events: fc.constant(events),
      arrived: fc
        .array(fc.integer({ min: 0, max: events.length - 1 }), { maxLength: 2 * events.length })
        .chain((dups) =>
          fc.shuffledSubarray([...events, ...dups.map((i) => events[i]!)], { minLength: events.length + dups.length }),
        ),
      cuts: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 20 }),
    });
  });

function batches<T>(items: readonly T[], sizes: readonly number[]): T[][] {
  const out: T[][] = [];
  let i = 0;
  let k = 0;
  while (i < items.length) {
    const size = sizes[k++ % sizes.length] ?? 1;
    out.push(items.slice(i, i + size));
    i += size;
  }
  return out;
}

function deps(events: MemoryEventStore, views: MemoryViewStore, letters: DeadLetter[]): ProjectorDeps {
  return {
    events,
    views,
    deadLetters: { put: async (l) => void letters.push(l) },
    retry: { attempts: 1, firstRetryMs: 0, maxRetryMs: 0 },
    statusViewTtlSeconds: 30 * 86_400,
    now: () => new Date('2026-11-22T12:00:00Z'),
  };
}

async function project(
  arrived: readonly DeliveryEvent[],
  sizes: readonly number[],
): Promise<{ events: MemoryEventStore; views: MemoryViewStore; letters: DeadLetter[] }> {
  const events = new MemoryEventStore();
  const views = new MemoryViewStore();
  const letters: DeadLetter[] = [];
  for (const batch of batches(arrived, sizes)) await projectBatch(batch, [], deps(events, views, letters));
  return { events, views, letters };
}

describe('projection under duplication and reordering (property)', () => {
  it('the pure fold over the gapless prefix of any arrival equals the in-order fold', () => {
    fc.assert(
      fc.property(arrival, ({ events, arrived }) => {
        expect(foldStatus(gaplessPrefix(arrived))).toEqual(foldStatus(events));
      }),
      { numRuns: 500 },
    );
  });

  it('the projector stores the same stream and ends with the same view as in-order delivery, whatever the batches', async () => {
    await fc.assert(
      fc.asyncProperty(arrival, async ({ events, arrived, cuts }) => {
        const inOrder = await project(events, [events.length]);
        const shuffled = await project(arrived, cuts);
        expect(await shuffled.events.readStream('d-prop')).toEqual(await inOrder.events.readStream('d-prop'));
        expect(await shuffled.events.readStream('d-prop')).toEqual(events);
        expect((await shuffled.views.read('d-prop'))?.view).toEqual(foldStatus(events));
        expect(shuffled.views.docs.get('d-prop')?.ttl).toBe(inOrder.views.docs.get('d-prop')?.ttl);
        expect(shuffled.letters).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('after every batch, the view is exactly the fold of the gapless prefix of what has arrived so far', async () => {
    await fc.assert(
      fc.asyncProperty(arrival, async ({ arrived, cuts }) => {
        const events = new MemoryEventStore();
        const views = new MemoryViewStore();
        const seen: DeliveryEvent[] = [];
        for (const batch of batches(arrived, cuts)) {
          await projectBatch(batch, [], deps(events, views, []));
          seen.push(...batch);
          expect((await views.read('d-prop'))?.view).toEqual(foldStatus(gaplessPrefix(seen)));
        }
      }),
      { numRuns: 200 },
    );
  });
});
