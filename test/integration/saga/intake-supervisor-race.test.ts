/**
 * The intake record of one delivery under seeded interleavings, on the Cosmos DB server: a
 * request and a client's retry of it (each may crash between requests; a saga start may be
 * refused, or reach the engine and lose its answer), supervisor runs at any moment, the saga
 * finishing or dying, and a clock that moves on between any two requests. Every Cosmos DB
 * request and every call to the Durable client waits at a gate until the seeded scheduler lets
 * it through. Once every actor is done, unless a request died between starting the saga and
 * marking its record, a running saga's intake counts in flight. Then, after a supervisor run
 * soon after and one hours later:
 * - a running saga has its intake counted in flight, so the in-flight bound holds and, should
 *   it die once old, its open intake leads a run to it;
 * - a saga dead before it finished has its recovery started, or its intake still open;
 * - a saga that finished has its intake closed with the saga's outcome;
 * - a delivery with no saga has its intake closed as never started (no slot held forever), or
 *   no record at all (every request died before writing one);
 * - a request answered 202 has a saga.
 * A failure names its seed; a seed that once failed stays in FIXED_SEEDS.
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
import { sagaStatusFor } from '../../support/saga-status';

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
  constructor(private readonly clock: () => number) {}

  /**
   * A client whose every call goes through `s` (a scheduler's gate, or straight on). `faults`
   * decides each start (refused: nothing created; lost: created, then the answer is lost) and
   * whether a status read fails; once `dead()`, the caller's process is gone and sends nothing.
   */
  client(
    s: { request<T>(f: () => Promise<T>): Promise<T> },
    faults: Faults = { start: () => 'ok', statusFails: () => false },
    dead: () => boolean = () => false,
    onStart: () => void = () => undefined,
  ): Sagas {
    const send = <T>(f: () => Promise<T>): Promise<T> =>
      s.request(async () => {
        if (dead()) throw new Crash('crashed before this call');
        return f();
      });
    return {
      status: (id) =>
        send(async () => {
          if (faults.statusFails()) throw new Error('the task hub did not answer');
          return this.instances.get(id);
        }),
      list: (q: SagaQuery) => send(async () => [...this.instances.values()].filter((x) => matches(x, q))),
      start: (name, id) =>
        send(async () => {
          onStart();
          if (this.instances.has(id)) return 'exists' as const;
          const f = faults.start();
          if (f === 'refused') throw new Error('the task hub is unreachable');
          const at = new Date(this.clock());
          this.instances.set(id, {
            ...sagaStatusFor({ now: at, dueAfterMs: QUIET_MS })(id, 'Running', 0, {}, name),
          });
          if (f === 'lost') throw new Error('socket hang up');
          return 'started' as const;
        }),
      signal: () => send(async () => 'delivered' as const),
      resume: () => send(async () => undefined),
    };
  }
}

interface Faults {
  readonly start: () => 'ok' | 'refused' | 'lost';
  readonly statusFails: () => boolean;
}

const matches = (x: SagaStatus, q: SagaQuery): boolean =>
  q.runtimeStatus.includes(x.runtimeStatus) &&
  (!q.createdFrom || x.createdAt >= q.createdFrom) &&
  (!q.createdTo || x.createdAt <= q.createdTo);

interface Answer {
  readonly who: string;
  readonly answer: 'accepted' | 'failed' | 'crashed';
}

async function scenario(seed: number): Promise<string[]> {
  const r = new Random(seed);
  const deliveryId = `race-${seed}`;
  let now = T0;
  const s = new Scheduler(r);
  const engine = new Engine(() => now);
  const faults: Faults = {
    start: () => r.pick(['ok', 'ok', 'ok', 'refused', 'lost'] as const),
    statusFails: () => r.chance(0.15),
  };
  const body = JSON.stringify(request({ deliveryId }));

  // Moments, in order: when a request died after sending a start, and when one answered 202
  // (having done all it does, its mark included) while alive.
  let moment = 0;
  let lastCrashAfterStart = -1;
  let lastAccepted = -1;
  const answers: Promise<Answer>[] = [];
  const requestActor = (who: string): Promise<Answer> =>
    s.actor(async () => {
      const crashAt = r.chance(0.3) ? r.int(1, 5) : undefined;
      let dead = false;
      let startSent = false;
      const onCrash = (): void => {
        if (!dead && startSent) lastCrashAfterStart = ++moment;
        dead = true;
      };
      const deps: IntakeDeps = {
        intakes: new CosmosIntakeRecords(gated(container, s, crashAt, onCrash)),
        sagas: engine.client(
          s,
          faults,
          () => dead,
          () => void (startSent = true),
        ),
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
      await s.request(async () => void (now += r.chance(0.3) ? r.int(4, 9) * MIN : r.int(0, 60) * 1000));
    }
  });
  await s.run();
  const answered = await Promise.all(answers);
  await Promise.all([supervisor, saga, clock]);

  const problems: string[] = [];
  const story = async (): Promise<string> => {
    const record = await new CosmosIntakeRecords(container).get(deliveryId);
    const intake = record ? (record.active ? 'open' : `closed ${record.outcome}`) : 'none';
    return `saga ${engine.instances.get(deliveryId)?.runtimeStatus ?? 'none'}, intake ${intake}, answers ${answered.map((a) => `${a.who} ${a.answer}`).join(', ')}`;
  };
  // Unless a request died between sending a start and marking its record (and no request
  // answered 202 after that), a running saga counts in flight at once, with no supervisor run
  // needed to mend it.
  if (
    (lastCrashAfterStart < 0 || lastAccepted > lastCrashAfterStart) &&
    engine.instances.get(deliveryId)?.runtimeStatus === 'Running' &&
    !(await new CosmosIntakeRecords(container).get(deliveryId))?.active
  )
    problems.push(`a running saga whose intake is closed, with no request dead after its start: ${await story()}`);

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
 * Against the intake and supervisor of be72836, seeds 1–150 find 39 problems (2, 5, 12, 14, 19,
 * 29, 31, 33 and 38 first): records closed as never started while their saga ran, finished or
 * died, after a start whose answer was lost, a retry's refused start, or a supervisor run that
 * looked before the start. Found by fresh seeds while the fix was under way: 2042654371 (a
 * retry's lost start whose status read failed too, after the first request had closed the
 * record), 1922439875 and 484364970 (a dead saga whose intake, closed as never started, was
 * taken for settled), 2009406937 (a saga running past the window with such an intake, left
 * uncounted).
 */
const FIXED_SEEDS = [
  ...Array.from({ length: 150 }, (_, i) => i + 1),
  2_042_654_371,
  1_922_439_875,
  484_364_970,
  2_009_406_937,
];

describe('an intake record under seeded interleavings of requests, retries, crashes, lost starts, supervisor runs and the saga', () => {
  const fresh = freshSeeds(Number(process.env.SIM_INTAKE_FRESH ?? 100));
  it(`counts a saga in flight exactly while it is, and closes it with the right outcome (fixed seeds and fresh seeds ${fresh.slice(0, 3).join(', ')}, …)`, async () => {
    const problems: string[] = [];
    for (const seed of [...FIXED_SEEDS, ...fresh]) problems.push(...(await scenario(seed)));
    expect(problems.slice(0, 12), `${problems.length} problems; replay a seed by adding it to FIXED_SEEDS`).toEqual([]);
  }, 240_000);
});
