/**
 * The intake record of one delivery under seeded interleavings, on the Cosmos DB server: a
 * request and a client's retry of it (each may crash between requests; a saga start may be
 * refused, reach the engine and lose its answer, or fail while the engine creates the instance
 * later; a status read may fail), supervisor runs at any moment, the saga
 * finishing or dying, and a clock that moves on between any two requests. Every Cosmos DB
 * request and every call to the Durable client waits at a gate until the seeded scheduler lets
 * it through. Once every actor is done, unless a start may never be marked (its request died
 * after sending it, or it landed after its request had seen no saga) with no 202 after it, a
 * running saga's intake counts in flight. Then, after a supervisor run
 * soon after and one hours later:
 * - a running saga has its intake counted in flight, so the in-flight bound holds and, should
 *   it die once old, its open intake leads a run to it;
 * - a saga dead before it finished has its recovery started, or its intake still open;
 * - a saga that finished has its intake closed with the saga's outcome;
 * - a delivery with no saga has its intake closed as never started (no slot held forever), or
 *   no record at all (every request died before writing one);
 * - a request answered 202 has a saga.
 * A failure names its seed; a seed that once failed stays in FIXED_SEEDS. Only the request and
 * its retry meet failed status reads and crashes; supervisor runs do not.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Container } from '@azure/cosmos';
import { CosmosIntakeRecords } from '../../../functions/adapters/cosmos-agents';
import { requestDelivery } from '../../../functions/saga/intake';
import { NOT_STARTED } from '../../../domain/delivery/intake-record';
import type { IntakeDeps } from '../../../functions/saga/intake';
import { superviseOnce } from '../../../functions/saga/supervisor';
import { recoveryInstanceId } from '../../../functions/names';
import { COSMOS_CONTAINERS } from '../../../functions/resources';
import type { SagaQuery, Sagas, SagaStatus } from '../../../domain/delivery/ports';
import type { SlaSettings } from '../../../domain/delivery/saga';
import { Random, freshSeeds } from '../../../tools/simulation/random';
import { useEmulators } from '../../support/emulators';
import { Crash, Scheduler, gated } from '../../support/interleavings';
import { alice, request } from '../../support/saga-world';
import { matchesQuery, sagaStatusFor } from '../../support/saga-status';

const MIN = 60_000;
const T0 = Date.parse('2026-12-01T08:00:00Z');
const QUIET_MS = 60 * MIN;
const SLA: SlaSettings = {
  assignmentSlaMs: 20 * MIN,
  pickupSlaMs: 20 * MIN,
  deliverySlaMs: 40 * MIN,
  assignmentRetryMs: 30_000,
} as SlaSettings;

let container: Container;
beforeAll(async () => {
  const env = await useEmulators('intake-race');
  container = env.cosmos.database(env.databaseId).container(COSMOS_CONTAINERS.intakes.name);
});

/** The Durable client of one scenario: instances in memory, every call through the gate. */
class Engine {
  readonly instances = new Map<string, SagaStatus>();
  /** Starts whose answer came back as a failure before the engine had created the instance. */
  readonly #late: (() => void)[] = [];
  constructor(private readonly clock: () => number) {}

  /** The late starts land (a status read before this did not see them). */
  land(): void {
    for (const create of this.#late.splice(0)) create();
  }

  /**
   * A client whose every call goes through `s` (a scheduler's gate, or straight on). `faults`
   * decides each start (refused: nothing created; lost: created, then the answer is lost;
   * late: the answer is a failure and the instance appears only later, as when a start times
   * out while the engine still works on it) and whether a status read fails; once `dead()`, the
   * caller's process is gone and sends nothing. `hear` is told what each start did, when a
   * late start lands, and of each status read.
   */
  client(
    s: { request<T>(f: () => Promise<T>): Promise<T> },
    faults: Faults = { start: () => 'ok', statusFails: () => false },
    dead: () => boolean = () => false,
    hear: Hooks = {},
  ): Sagas {
    const send = <T>(f: () => Promise<T>): Promise<T> =>
      s.request(async () => {
        if (dead()) throw new Crash('crashed before this call');
        return f();
      });
    return {
      status: (id) =>
        send(async () => {
          hear.status?.();
          if (faults.statusFails()) throw new Error('the task hub did not answer');
          return this.instances.get(id);
        }),
      list: (q: SagaQuery) => send(async () => [...this.instances.values()].filter((x) => matchesQuery(x, q))),
      start: (name, id) =>
        send(async () => {
          if (this.instances.has(id)) return (hear.start?.('exists'), 'exists' as const);
          const f = faults.start();
          hear.start?.(f);
          if (f === 'refused') throw new Error('the task hub is unreachable');
          const create = (): void => {
            if (this.instances.has(id)) return;
            const at = new Date(this.clock());
            this.instances.set(id, sagaStatusFor({ now: at, dueAfterMs: QUIET_MS })(id, 'Running', 0, {}, name));
          };
          if (f === 'late') {
            this.#late.push(() => {
              if (!this.instances.has(id)) hear.landed?.();
              create();
            });
            throw new Error('the start timed out');
          }
          create();
          if (f === 'lost') throw new Error('socket hang up');
          return 'started' as const;
        }),
      signal: () => send(async () => 'delivered' as const),
      resume: () => send(async () => undefined),
    };
  }
}

type StartFault = 'ok' | 'refused' | 'lost' | 'late';

interface Hooks {
  readonly start?: (outcome: StartFault | 'exists') => void;
  readonly landed?: () => void;
  readonly status?: () => void;
}

interface Faults {
  readonly start: () => StartFault;
  readonly statusFails: () => boolean;
}

interface Answer {
  readonly who: string;
  readonly answer: 'accepted' | 'failed' | 'crashed';
}

/** What the scenarios drew and checked, so the run shows that every fault came up. */
const tally = {
  scenarios: 0,
  starts: {} as Record<string, number>,
  statusFailures: 0,
  crashes: 0,
  checkedAtOnce: 0,
  ends: {} as Record<string, number>,
};
const count = (into: Record<string, number>, key: string): void => void (into[key] = (into[key] ?? 0) + 1);

async function scenario(seed: number): Promise<string[]> {
  tally.scenarios++;
  const r = new Random(seed);
  const deliveryId = `race-${seed}`;
  let now = T0;
  const s = new Scheduler(r);
  const engine = new Engine(() => now);
  const faults: Faults = {
    start: () => r.pick(['ok', 'ok', 'ok', 'ok', 'refused', 'lost', 'late'] as const),
    statusFails: () => r.chance(0.15) && ++tally.statusFailures > 0,
  };
  const body = JSON.stringify(request({ deliveryId }));

  // Moments, in order: the last start whose mark may never come (its request died after
  // sending it, or it landed late, after the request had looked and seen no saga), and the
  // last 202 of a request that did all it does, its mark included.
  let moment = 0;
  let lastUnmarkedStart = -1;
  let lastAccepted = -1;
  const answers: Promise<Answer>[] = [];
  const requestActor = (who: string): Promise<Answer> =>
    s.actor(async () => {
      const crashAt = r.chance(0.3) ? r.int(1, 5) : undefined;
      let dead = false;
      let startSent = false;
      let created = false;
      let lookedSince = false;
      // A start this request made whose mark may never come: it created the saga and the request
      // then died, or it landed late, after the request had looked (or had died).
      const unmarked = (): void => void (lastUnmarkedStart = ++moment);
      const onCrash = (): void => {
        if (!dead) tally.crashes++;
        if (!dead && created) unmarked();
        dead = true;
      };
      const deps: IntakeDeps = {
        intakes: new CosmosIntakeRecords(gated(container, s, crashAt, onCrash)),
        sagas: engine.client(s, faults, () => dead, {
          start: (outcome) => {
            count(tally.starts, outcome);
            startSent = true;
            if (outcome === 'ok' || outcome === 'lost') created = true;
          },
          landed: () => (lookedSince || dead ? unmarked() : void (created = true)),
          status: () => void (lookedSince = startSent),
        }),
        inFlight: async () => 0,
        maxInFlight: 1000,
        sla: SLA,
        retry: { attempts: 2, firstRetryMs: 1000, maxRetryMs: 60_000 },
        now: () => new Date(now),
        newId: () => 'unused',
      };
      try {
        const res = await requestDelivery(body, alice, deps);
        if (dead) return { who, answer: 'crashed' };
        if (res.ok) lastAccepted = ++moment;
        return { who, answer: res.ok ? 'accepted' : 'failed' };
      } catch (e) {
        return { who, answer: e instanceof Crash || dead ? 'crashed' : 'failed' };
      }
    });
  answers.push(requestActor('request'));
  if (r.chance(0.7)) answers.push(requestActor('retry'));

  const supervisorDeps = (sagas: Sagas, intakes: CosmosIntakeRecords) => ({
    sagas,
    intakes,
    now: () => new Date(now),
    policy: { graceMs: 5 * MIN, escalateAfterMs: 15 * MIN, pendingTooLongMs: 15 * MIN },
    retry: { attempts: 2, firstRetryMs: 1000, maxRetryMs: 60_000 },
    lookbackMs: 30 * 24 * 60 * MIN,
    runningQuietMs: QUIET_MS,
    log: () => undefined,
  });
  const supervisor = s.actor(async () => {
    for (let i = r.int(1, 3); i > 0; i--) {
      await superviseOnce(supervisorDeps(engine.client(s), new CosmosIntakeRecords(gated(container, s))));
    }
  });
  // The saga: once it exists, it may finish (closing its intake, as its last activity does) or die.
  const saga = s.actor(async () => {
    const intakes = new CosmosIntakeRecords(gated(container, s));
    for (let step = 0; step < 8; step++) {
      await s.request(async () => undefined);
      const current = engine.instances.get(deliveryId);
      if (current?.runtimeStatus !== 'Running') continue;
      if (r.chance(0.25)) {
        engine.instances.set(deliveryId, {
          ...current,
          runtimeStatus: 'Completed',
          progress: { ...current.progress!, stage: 'Delivered', finished: true, outcome: 'Delivered' },
        });
        await intakes.close(deliveryId, 'Delivered');
        return;
      }
      if (r.chance(0.1)) {
        engine.instances.set(deliveryId, { ...current, runtimeStatus: 'Failed' });
        return;
      }
    }
  });
  // Time moves on between requests: often a little, sometimes past the supervisor's start grace.
  const clock = s.actor(async () => {
    for (let tick = r.int(2, 8); tick > 0; tick--) {
      await s.request(async () => {
        now += r.chance(0.3) ? r.int(4, 9) * MIN : r.int(0, 60) * 1000;
        if (r.chance(0.5)) engine.land();
      });
    }
  });
  await s.run();
  const answered = await Promise.all(answers);
  await Promise.all([supervisor, saga, clock]);
  engine.land();

  const problems: string[] = [];
  const story = async (): Promise<string> => {
    const record = await new CosmosIntakeRecords(container).get(deliveryId);
    const intake = record ? (record.active ? 'open' : `closed ${record.outcome}`) : 'none';
    return `saga ${engine.instances.get(deliveryId)?.runtimeStatus ?? 'none'}, intake ${intake}, answers ${answered.map((a) => `${a.who} ${a.answer}`).join(', ')}`;
  };
  // Unless a start may never be marked (and no request answered 202 after it), a running saga
  // counts in flight at once, with no supervisor run needed to mend it.
  const checkedAtOnce =
    (lastUnmarkedStart < 0 || lastAccepted > lastUnmarkedStart) &&
    engine.instances.get(deliveryId)?.runtimeStatus === 'Running';
  if (checkedAtOnce) tally.checkedAtOnce++;
  if (checkedAtOnce && !(await new CosmosIntakeRecords(container).get(deliveryId))?.active)
    problems.push(`a running saga whose intake is closed, with every start marked: ${await story()}`);

  // Then, with nothing else going on, a supervisor run soon after and one hours later.
  const plain = new CosmosIntakeRecords(container);
  const straight = engine.client({ request: (f) => f() });
  now += 10 * MIN;
  await superviseOnce(supervisorDeps(straight, plain));
  now += 4 * 60 * MIN;
  await superviseOnce(supervisorDeps(straight, plain));

  const record = await plain.get(deliveryId);
  const sagaNow = engine.instances.get(deliveryId);
  const told = await story();
  count(
    tally.ends,
    `${sagaNow?.runtimeStatus ?? 'no saga'}/${record ? (record.active ? 'open' : record.outcome) : 'no record'}`,
  );
  // Every request died before its record was written: nothing to count, and nothing started.
  if (!record) {
    if (sagaNow) problems.push(`a saga with no intake record: ${told}`);
  } else if (!sagaNow) {
    if (record.active || record.outcome !== NOT_STARTED) problems.push(`no saga, yet ${told}`);
  } else if (sagaNow.runtimeStatus === 'Running') {
    if (!record.active) problems.push(`a saga in flight whose intake is closed: ${told}`);
  } else if (sagaNow.runtimeStatus === 'Failed' && !sagaNow.progress?.finished) {
    // Dead before it finished: its recovery has started (and will close the intake), or its open intake leads a run to it.
    if (!record.active && !engine.instances.has(recoveryInstanceId(deliveryId)))
      problems.push(`a dead saga neither recovered nor findable: ${told}`);
  } else if (record.active || record.outcome !== 'Delivered') problems.push(`a finished saga: ${told}`);
  if (answered.some((a) => a.answer === 'accepted') && !sagaNow) problems.push(`answered 202 with no saga: ${told}`);
  await container
    .item(deliveryId, deliveryId)
    .delete()
    .catch(() => undefined);
  return problems.map((p) => `seed ${seed}: ${p}`);
}

/**
 * Observed while building this test (each seed's interleaving can shift with the machine's
 * speed, since the scheduler lets a request go after 50 ms without its answer): against the
 * intake and supervisor of be72836, seeds 1–150 found 54 problems (5, 26, 28, 31, 32, 33, 43 and
 * 47 first): records closed as never started while their saga ran, finished or died, after a
 * start whose answer was lost or late, a retry's refused start, or a supervisor run that looked
 * before the start. The later seeds each failed with one part of the fix taken away, in the
 * test's form of the time (earlier forms drew differently, and their seeds are kept too): a
 * dead saga whose intake says never started taken for settled (878865681, 1100483344,
 * 1922439875, 484364970, 237996947); a failed status read after a failed start taken for "no
 * saga" (97008900, 1103707034, 2042654371); a record closed meanwhile not reopened when the
 * status read fails (1519416124, 2131268778); a running saga whose intake says never started
 * left uncounted (2009406937; 28, 33 and 85 in the last form).
 */
const FIXED_SEEDS = [
  ...Array.from({ length: 150 }, (_, i) => i + 1),
  878_865_681,
  1_100_483_344,
  1_922_439_875,
  484_364_970,
  237_996_947,
  97_008_900,
  1_103_707_034,
  2_042_654_371,
  1_519_416_124,
  2_131_268_778,
  2_009_406_937,
];

describe('an intake record under seeded interleavings of requests, retries, crashes, lost and late starts, failed status reads, supervisor runs and the saga', () => {
  const fresh = freshSeeds(Number(process.env.SIM_INTAKE_FRESH ?? 100));
  it(`keeps a saga's intake counted in flight while it runs or may need recovering, and closes it with the saga's outcome (fixed seeds and fresh seeds ${fresh.slice(0, 3).join(', ')}, …)`, async () => {
    const problems: string[] = [];
    for (const seed of [...FIXED_SEEDS, ...fresh]) problems.push(...(await scenario(seed)));
    console.log(`intake race: ${JSON.stringify(tally)}`);
    expect(problems.slice(0, 12), `${problems.length} problems; replay a seed by adding it to FIXED_SEEDS`).toEqual([]);
    // Every fault came up, and the at-once check was made, in this run's scenarios.
    for (const start of ['ok', 'refused', 'lost', 'late', 'exists'])
      expect(tally.starts[start] ?? 0, start).toBeGreaterThan(0);
    expect(tally.statusFailures).toBeGreaterThan(0);
    expect(tally.crashes).toBeGreaterThan(0);
    expect(tally.checkedAtOnce).toBeGreaterThan(FIXED_SEEDS.length / 10);
  }, 240_000);
});
