/**
 * The drone reservation protocol on the Cosmos DB server, under seeded interleavings: duplicate
 * attempts to reserve for one delivery (with different views of the fleet), attempts that crash
 * between requests and are retried, a release at any point and late attempts after it. Every
 * request of every attempt first lets a seeded number of turns of the event loop pass, so each
 * seed is one interleaving of the requests. After each scenario:
 * - the delivery holds at most one drone, and every attempt that got a drone got that one;
 * - once released, it holds none, and every attempt that started after the release is refused;
 * - without a release, the drone the attempts got is the one it holds, and no attempt answers
 *   that every candidate is taken while the delivery holds one of them;
 * - a drone held by another delivery is never taken from it.
 * A failure names its seed; a seed that once failed stays in FIXED_SEEDS.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Container } from '@azure/cosmos';
import { counted } from '../../support/counted-container';
import { useEmulators } from '../../support/emulators';
import { CosmosDroneReservations } from '../../../functions/adapters/cosmos-reservations';
import type { ReservationOutcome } from '../../../domain/delivery/ports';
import { COSMOS_CONTAINERS } from '../../../functions/resources';
import { Random, freshSeeds } from '../../../tools/simulation/random';
import { Crash, Scheduler, gated as gatedOn } from '../../support/interleavings';

let container: Container;

beforeAll(async () => {
  const env = await useEmulators('reservations');
  container = env.cosmos.database(env.databaseId).container(COSMOS_CONTAINERS.droneReservations.name);
});

const gated = (s: Scheduler, crashAt?: number): Container => gatedOn(container, s, crashAt);

async function heldFor(deliveryId: string): Promise<string[]> {
  const { resources } = await container.items
    .query<{ droneId: string }>({
      query: "SELECT * FROM c WHERE c.kind = 'reservation' AND c.deliveryId = @d",
      parameters: [{ name: '@d', value: deliveryId }],
    })
    .fetchAll();
  return resources.map((x) => x.droneId).sort();
}

interface Attempt {
  readonly candidates: readonly string[];
  readonly outcome?: ReservationOutcome;
  readonly crashed: boolean;
  readonly startedAfterRelease: boolean;
}

async function scenario(seed: number): Promise<string[]> {
  const r = new Random(seed);
  const problems: string[] = [];
  const d = `res-${seed}`;
  const drones = Array.from({ length: 5 }, (_, i) => `res-${seed}-drone-${i}`);
  // Some drones are held by other deliveries already.
  const others = new Map<string, string>();
  for (const droneId of drones)
    if (r.chance(0.3)) {
      const other = `other-${seed}-${droneId}`;
      const got = await new CosmosDroneReservations(container).reserveFor(other, 't0', async () => [droneId]);
      if (got.outcome !== 'reserved') problems.push(`setup: ${droneId} not reserved for ${other}`);
      others.set(droneId, other);
    }
  // Each attempt sees the fleet in its own order (as a retry judged later might).
  const view = (): string[] => [...drones].sort(() => r.next() - 0.5).slice(0, r.int(1, drones.length));

  const s = new Scheduler(r);
  let released = false;
  let releasedDrone: string | undefined;
  const attempts: Promise<Attempt>[] = [];
  const attempt = (crashAt?: number): Promise<Attempt> =>
    s.actor(async () => {
      const startedAfterRelease = released;
      const candidates = view();
      try {
        const outcome = await new CosmosDroneReservations(gated(s, crashAt)).reserveFor(
          d,
          't1',
          async () => candidates,
        );
        return { candidates, outcome, crashed: false, startedAfterRelease };
      } catch (e) {
        if (!(e instanceof Crash)) throw e;
        return { candidates, crashed: true, startedAfterRelease };
      }
    });
  const workers = r.int(1, 4);
  for (let i = 0; i < workers; i++) {
    const crashAt = r.chance(0.3) ? r.int(1, 6) : undefined;
    // A crashed attempt is retried (as the durable retry policy would), without a crash.
    attempts.push(attempt(crashAt).then((a) => (a.crashed ? attempt() : a)));
  }
  const releasing = r.chance(0.6)
    ? s.actor(async () => {
        releasedDrone = await new CosmosDroneReservations(gated(s)).release(d);
        released = true;
        // A late attempt, after the release: refused.
        attempts.push(attempt());
      })
    : Promise.resolve();
  await s.run();
  await releasing; // so the late attempt is in the list too
  const all = await Promise.all(attempts);

  const held = await heldFor(d);
  const got = new Set(
    all.flatMap((a) =>
      a.outcome?.outcome === 'held' || a.outcome?.outcome === 'reserved' ? [a.outcome.reservation.droneId] : [],
    ),
  );
  if (held.length > 1) problems.push(`holds ${held.length} drones: ${held.join(', ')}`);
  if (got.size > 1) problems.push(`attempts got different drones: ${[...got].join(', ')}`);
  if (released) {
    if (held.length > 0) problems.push(`released, yet holds ${held.join(', ')}`);
    for (const a of all)
      if (a.startedAfterRelease && a.outcome?.outcome !== 'released')
        problems.push(`an attempt after the release got ${a.outcome?.outcome ?? 'a crash'}`);
    if (releasedDrone !== undefined && others.has(releasedDrone))
      problems.push(`release let go of ${releasedDrone}, held by another delivery`);
  } else {
    const mine = [...got][0];
    if (mine !== undefined && held[0] !== mine)
      problems.push(`attempts got ${mine}, yet it holds ${held[0] ?? 'none'}`);
    if (mine === undefined && held.length > 0) problems.push(`no attempt got a drone, yet it holds ${held[0]}`);
    for (const a of all)
      if (a.outcome?.outcome === 'allTaken' && held.some((h) => a.candidates.includes(h)))
        problems.push(`an attempt answered allTaken, yet the delivery holds ${held.join(', ')}, one of its candidates`);
  }
  for (const [droneId, other] of others) {
    const still = await heldFor(other);
    if (still[0] !== droneId) problems.push(`${droneId} was taken from ${other}`);
  }
  return problems.map((p) => `seed ${seed}: ${p}`);
}

/**
 * Seeds that broke the protocol stay here: 1059961568 and 1827692915 caught an attempt that,
 * finding its delivery released after it had reserved, kept the drone; 1459075601 and 1447769850
 * caught an attempt that lost the commit to a duplicate and kept the drone it had reserved
 * meanwhile (each pair: before and after the release was made a patch); 1451079585 and 320131090
 * caught an attempt that took a conflict on a drone it had listed itself for another delivery's,
 * and answered that every drone was taken while a duplicate had reserved that drone for it.
 */
const FIXED_SEEDS = [
  1, 2, 3, 42, 1234, 1_059_961_568, 1_459_075_601, 1_447_769_850, 1_827_692_915, 1_451_079_585, 320_131_090,
];

describe('drone reservations under seeded interleavings of duplicate attempts, crashes and a release', () => {
  const fresh = freshSeeds(100);
  it(`keep at most one drone per delivery, none once released (fixed seeds and fresh seeds ${fresh.slice(0, 3).join(', ')}, …)`, async () => {
    const problems: string[] = [];
    for (const seed of [...FIXED_SEEDS, ...fresh]) problems.push(...(await scenario(seed)));
    expect(problems, `replay a seed by adding it to FIXED_SEEDS`).toEqual([]);
  }, 120_000);

  it('a release frees the committed drone even when its ETag changed since the commit (as after a stand-in restart)', async () => {
    const reservations = new CosmosDroneReservations(container);
    await reservations.reserveFor('res-etag', 't', async () => ['res-etag-drone']);
    const { resource } = await container.item('res-etag-drone', 'res-etag-drone').read<Record<string, unknown>>();
    await container.item('res-etag-drone', 'res-etag-drone').replace({ ...resource });
    expect(await reservations.release('res-etag')).toBe('res-etag-drone');
    expect(await heldFor('res-etag')).toEqual([]);
  });

  it('a release frees a drone reserved before claims existed (no claim document): nothing stays held across the upgrade', async () => {
    await container.items.create({
      id: 'res-legacy-drone',
      kind: 'reservation',
      deliveryId: 'res-legacy',
      droneId: 'res-legacy-drone',
    });
    const reservations = new CosmosDroneReservations(container);
    expect(await reservations.release('res-legacy')).toBe('res-legacy-drone');
    expect(await heldFor('res-legacy')).toEqual([]);
    expect(await reservations.reserveFor('res-legacy', 't', async () => ['res-legacy-drone'])).toEqual({
      outcome: 'released',
    });
  });

  it('a first attempt costs the fleet and three writes (claim, reservation, commit); a retry a refused create and two point reads; a release a patch and a delete', async () => {
    const c = counted(container);
    const reservations = new CosmosDroneReservations(c.container);
    let fleetAsked = 0;
    const got = await reservations.reserveFor('res-count', 't', async () => (fleetAsked++, ['res-count-drone']));
    expect(got).toMatchObject({ outcome: 'reserved', reservation: { droneId: 'res-count-drone' } });
    expect({ requests: c.requests.length, fleetAsked }).toEqual({ requests: 3, fleetAsked: 1 });
    c.requests.length = 0;
    // A retry (which asks for the fleet again) finds it by point reads: the claim, then the drone it names.
    expect(
      await reservations.reserveFor('res-count', 't', async () => (fleetAsked++, ['res-count-drone'])),
    ).toMatchObject({ outcome: 'held', reservation: { droneId: 'res-count-drone' } });
    expect({ requests: c.requests.length, fleetAsked }).toEqual({ requests: 3, fleetAsked: 2 });
    c.requests.length = 0;
    expect(await reservations.release('res-count')).toBe('res-count-drone');
    expect(c.requests.length).toBe(2);
    expect(await heldFor('res-count')).toEqual([]);
  });
});
