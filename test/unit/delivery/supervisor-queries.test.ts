/**
 * What one supervisor run asks for: running sagas only once they are old enough to be overdue,
 * pending ones only once they could have waited too long, dead ones while young or while their
 * delivery is still open, a saga's intake and recovery only when its verdict depends on them,
 * and each intake's start once. So a run's cost follows the sagas that may need it rather than
 * the sagas in flight or the sagas of the past.
 */
import { describe, expect, it } from 'vitest';
import type { IntakeRecord, IntakeRecords, SagaQuery, Sagas, SagaStatus } from '../../../domain/delivery/ports';
import { CLOCK_SKEW_MS, INTAKE_START_GRACE_MS, superviseOnce } from '../../../functions/saga/supervisor';
import type { SupervisorDeps } from '../../../functions/saga/supervisor';
import { recoveryInstanceId } from '../../../functions/names';
import { matchesQuery, sagaStatusFor } from '../../support/saga-status';
import { Random } from '../../../tools/simulation/random';

const NOW = new Date('2026-11-22T12:00:00Z');
const MIN = 60_000;
const QUIET = 60 * MIN;
const GRACE = 5 * MIN;

const saga = sagaStatusFor({ now: NOW, dueAfterMs: QUIET });

const DAY = 86_400_000;
/** Where the run's window of old intakes starts: the running sagas' cutoff. */
const QUIET_CUTOFF = NOW.getTime() - (QUIET + GRACE - INTAKE_START_GRACE_MS);

/** An intake requested `minutesAgo` before NOW. */
function intake(deliveryId: string, minutesAgo: number, over: Partial<IntakeRecord> = {}): IntakeRecord {
  const requestedAt = new Date(NOW.getTime() - minutesAgo * MIN).toISOString();
  return { deliveryId, ownerId: 'o', canonical: '{}', requestedAt, active: true, ...over };
}

/** One supervisor run over these sagas and intakes; every query, read and write is recorded. */
function run(all: readonly SagaStatus[], records: readonly IntakeRecord[] = []) {
  const queries: SagaQuery[] = [];
  const intakeReads: string[] = [];
  const statusReads: string[] = [];
  const writes: string[] = [];
  const sagas: Sagas = {
    list: async (q) => {
      queries.push(q);
      return all.filter((s) => matchesQuery(s, q));
    },
    status: async (id) => (statusReads.push(id), all.find((s) => s.instanceId === id)),
    start: async (_name, id) => (writes.push(`start ${id}`), 'started'),
    signal: async (id) => (writes.push(`signal ${id}`), 'delivered'),
    resume: async () => undefined,
  };
  const intakes = {
    get: async (id: string) => (intakeReads.push(id), records.find((r) => r.deliveryId === id)),
    markSupervised: async () => undefined,
    claimRecovery: async () => true,
    listActive: async (before: string) => records.filter((r) => r.active && r.requestedAt < before),
    listUnconfirmed: async (before: string) =>
      records.filter((r) => r.active && r.requestedAt < before && r.sagaStartedAt === undefined),
    markSagaStarted: async (id: string) => void writes.push(`started ${id}`),
    close: async (id: string, outcome: string) => void writes.push(`close ${id} ${outcome}`),
    closeUnstarted: async (id: string, before?: string) => (writes.push(`closeUnstarted ${id} ${before}`), true),
    listStuck: async () => [],
  } as unknown as IntakeRecords;
  const deps: SupervisorDeps = {
    sagas,
    intakes,
    now: () => NOW,
    policy: { graceMs: GRACE, escalateAfterMs: 15 * MIN, pendingTooLongMs: 15 * MIN },
    retry: { attempts: 3, firstRetryMs: 1000, maxRetryMs: 60_000 },
    lookbackMs: 30 * DAY,
    runningQuietMs: QUIET,
    log: () => undefined,
  };
  return { queries, intakeReads, statusReads, writes, report: superviseOnce(deps) };
}

describe('the supervisor queries only what may need it', () => {
  it('asks for running sagas created before now minus the quiet time and grace (less the start grace), pending ones past their patience, suspended ones within the lookback, dead ones only while young', async () => {
    const { queries, report } = run([]);
    await report;
    const running = queries.find((q) => q.runtimeStatus.includes('Running'));
    expect(running?.createdTo?.getTime()).toBe(QUIET_CUTOFF);
    expect(running?.createdFrom?.getTime()).toBe(NOW.getTime() - 30 * DAY);
    const pending = queries.find((q) => q.runtimeStatus.includes('Pending'));
    expect(pending?.createdTo?.getTime()).toBe(NOW.getTime() - 15 * MIN);
    expect(pending?.createdFrom?.getTime()).toBe(NOW.getTime() - 30 * DAY);
    expect(queries.find((q) => q.runtimeStatus.includes('Suspended'))?.createdFrom?.getTime()).toBe(
      NOW.getTime() - 30 * DAY,
    );
    const dead = queries.find((q) => q.runtimeStatus.includes('Failed'));
    expect(dead?.runtimeStatus).toEqual(['Failed', 'Terminated']);
    expect(dead?.createdFrom?.getTime()).toBe(QUIET_CUTOFF - CLOCK_SKEW_MS);
  });

  it('examines young running sagas not at all, reads nothing behind healthy old ones, and reads intake and recovery only for overdue and dead ones', async () => {
    const { intakeReads, statusReads, report } = run(
      [
        ...Array.from({ length: 50 }, (_, i) => saga(`young-${i}`, 'Running', 1, {})),
        saga('old-on-time', 'Running', 62, { completeBy: new Date(NOW.getTime() + 30 * MIN).toISOString() }),
        saga('overdue', 'Running', 120, {}),
        saga('dead', 'Failed', 30, {}),
        saga('dead-finished', 'Failed', 30, { finished: true }),
        saga('suspended', 'Suspended', 3, {}),
      ],
      [
        ...Array.from({ length: 50 }, (_, i) => intake(`young-${i}`, 1, { sagaStartedAt: 'x' })),
        intake('old-on-time', 62, { sagaStartedAt: 'x' }),
        intake('overdue', 120, { sagaStartedAt: 'x' }),
        intake('dead', 30, { sagaStartedAt: 'x' }),
        intake('dead-finished', 30, { sagaStartedAt: 'x' }),
        intake('suspended', 3, { sagaStartedAt: 'x' }),
      ],
    );
    const r = await report;
    expect(r.examined).toBe(5);
    expect(r.requestCompensation).toBe(1);
    expect(r.recover).toBe(1);
    expect(r.resume).toBe(1);
    // The overdue one's intake came with the listing of old open intakes; the finished one's is
    // read only to close it if still open.
    expect(intakeReads.sort()).toEqual(['dead', 'dead-finished']);
    expect(statusReads).toEqual([recoveryInstanceId('dead')]);
  });

  it('closes a marked record whose saga is gone (its history purged) as SagaGone, never as never started, so nothing starts it again', async () => {
    const { writes, report } = run([], [intake('purged', 200, { sagaStartedAt: 'x' })]);
    const r = await report;
    expect(r.intakesClosed).toBe(1);
    expect(writes).toEqual(['close purged SagaGone']);
  });

  it('counts in flight again a saga running past the window whose intake was closed as never started, and leaves one closed with an outcome', async () => {
    const { intakeReads, writes, report } = run(
      [
        saga('taken-for-failed', 'Running', 90, { completeBy: new Date(NOW.getTime() + 30 * MIN).toISOString() }),
        saga('closing', 'Running', 90, { completeBy: new Date(NOW.getTime() + 30 * MIN).toISOString() }),
        saga('open', 'Running', 90, { completeBy: new Date(NOW.getTime() + 30 * MIN).toISOString() }),
        saga('overdue-taken', 'Running', 120, {}),
      ],
      [
        intake('taken-for-failed', 91, { active: false, outcome: 'NotStarted' }),
        intake('closing', 91, { active: false, outcome: 'Delivered', sagaStartedAt: 'x' }),
        intake('open', 91, { sagaStartedAt: 'x' }),
        intake('overdue-taken', 121, { active: false, outcome: 'NotStarted' }),
      ],
    );
    const r = await report;
    expect(r.requestCompensation).toBe(1);
    expect(writes.sort()).toEqual(['signal overdue-taken', 'started overdue-taken', 'started taken-for-failed']);
    // The open one came with the listing of old open intakes: no read. The overdue one's intake,
    // read for its verdict, is not read again.
    expect(intakeReads.sort()).toEqual(['closing', 'overdue-taken', 'taken-for-failed']);
  });

  it("reads a dead saga's recovery only while its intake is open: a closed intake settles it", async () => {
    const { statusReads, report } = run(
      [saga('settled', 'Failed', 30, {}), saga('open', 'Failed', 30, {})],
      [intake('settled', 31, { active: false, sagaStartedAt: 'x' }), intake('open', 31, { sagaStartedAt: 'x' })],
    );
    const r = await report;
    expect(r.recover).toBe(1);
    expect(statusReads).toEqual([recoveryInstanceId('open')]);
  });

  it('reads nothing for a thousand settled deaths of the past month, and still recovers an old dead saga whose delivery is open', async () => {
    const settled = Array.from({ length: 1000 }, (_, i) =>
      saga(`past-${i}`, i % 2 ? 'Failed' : 'Terminated', 600 + i * 40, {}),
    );
    const { intakeReads, statusReads, writes, report } = run(
      [...settled, saga('old-open', 'Failed', 3 * 24 * 60, {})],
      [
        ...settled.map((s, i) => intake(s.instanceId, 600 + i * 40, { active: false, sagaStartedAt: 'x' })),
        intake('old-open', 3 * 24 * 60, { sagaStartedAt: 'x' }),
      ],
    );
    const r = await report;
    expect(r.examined).toBe(1);
    expect(r.recover).toBe(1);
    expect(writes).toEqual([`start ${recoveryInstanceId('old-open')}`]);
    // Its intake came with the listing of old open intakes; only its saga and recovery were read.
    expect(intakeReads).toEqual([]);
    expect(statusReads).toEqual(['old-open', recoveryInstanceId('old-open')]);
  });

  it('checks the start of unmarked intakes only, marking those whose saga it finds, and reads a marked one again only once old', async () => {
    const { statusReads, writes, report } = run(
      [
        saga('started', 'Running', 10, {}),
        saga('marked', 'Running', 20, {}),
        saga('done-unclosed', 'Completed', 200, { finished: true, outcome: 'Delivered' }),
      ],
      [
        intake('started', 10),
        intake('never-started', 10),
        intake('too-young', 2),
        intake('marked', 20, { sagaStartedAt: 'x' }),
        intake('done-unclosed', 200, { sagaStartedAt: 'x' }),
      ],
    );
    const r = await report;
    expect(statusReads.sort()).toEqual(['done-unclosed', 'never-started', 'started']);
    expect(writes.sort()).toEqual([
      'close done-unclosed Delivered',
      // Closed as never started only if still unmarked, and not stamped afresh since the run read it.
      `closeUnstarted never-started ${new Date(NOW.getTime() - 10 * MIN).toISOString()}`,
      'started started',
    ]);
    expect(r.intakesClosed).toBe(2);
  });

  it('reads no status behind the open intakes of sagas it listed: long deliveries past the window cost their listing only', async () => {
    const long = Array.from({ length: 30 }, (_, i) =>
      saga(`long-${i}`, 'Running', 70 + i, { completeBy: new Date(NOW.getTime() + 60 * MIN).toISOString() }),
    );
    const { statusReads, intakeReads, writes, report } = run(
      long,
      long.map((s, i) => intake(s.instanceId, 70 + i, { sagaStartedAt: 'x' })),
    );
    const r = await report;
    expect(r.examined).toBe(30);
    expect(r.none).toBe(30);
    expect(statusReads).toEqual([]);
    expect(intakeReads).toEqual([]);
    expect(writes).toEqual([]);
  });

  it('closes the open intake of a young saga that finished and then died, and leaves a closed one be', async () => {
    const { writes, report } = run(
      [
        saga('finished-open', 'Failed', 30, { finished: true, outcome: 'Delivered' }),
        saga('finished-closed', 'Failed', 30, { finished: true, outcome: 'Delivered' }),
      ],
      [
        intake('finished-open', 31, { sagaStartedAt: 'x' }),
        intake('finished-closed', 31, { sagaStartedAt: 'x', active: false }),
      ],
    );
    const r = await report;
    expect(writes).toEqual(['close finished-open Delivered']);
    expect(r.intakesClosed).toBe(1);
  });

  it('does not recover a saga found through its intake whose status the client could not name', async () => {
    const { writes, report } = run(
      [saga('unnamed', 'Unknown', 3 * 24 * 60, {})],
      [intake('unnamed', 3 * 24 * 60, { sagaStartedAt: 'x' })],
    );
    const r = await report;
    expect(r.recover).toBe(0);
    expect(writes).toEqual([]);
  });

  it('leaves no dead saga with an open intake unexamined, whatever its age and clock skew (seeded)', async () => {
    for (let seed = 1; seed <= 200; seed++) {
      const random = new Random(seed);
      // Half of them anywhere in the lookback, half near where the two windows meet.
      const cutoffMinutesAgo = (NOW.getTime() - QUIET_CUTOFF) / MIN;
      const createdMinutesAgo =
        random.int(0, 1) === 0
          ? random.int(0, 30 * 24 * 60)
          : Math.max(0, cutoffMinutesAgo + random.int(-2 * (CLOCK_SKEW_MS / MIN), 2 * (CLOCK_SKEW_MS / MIN)));
      // The intake's clock may run up to CLOCK_SKEW_MS ahead of or behind the durable store's.
      const skewMinutes = random.int(-CLOCK_SKEW_MS / MIN, CLOCK_SKEW_MS / MIN);
      const requestedMinutesAgo = Math.max(0, createdMinutesAgo - skewMinutes);
      const { report } = run(
        [saga('dead', 'Failed', createdMinutesAgo, {})],
        [intake('dead', requestedMinutesAgo, { sagaStartedAt: 'x' })],
      );
      const r = await report;
      expect(r.recover, `seed ${seed}: created ${createdMinutesAgo} min ago, requested ${requestedMinutesAgo}`).toBe(1);
    }
  });
});
