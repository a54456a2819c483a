/**
 * What one supervisor run asks for: running sagas only once they are old enough to be overdue,
 * pending ones only once they could have waited too long, and a saga's intake and recovery only
 * when its verdict depends on them, so a run's cost follows the sagas that may need it rather
 * than the sagas in flight.
 */
import { describe, expect, it } from 'vitest';
import type { IntakeRecords, SagaQuery, Sagas, SagaStatus } from '../../../domain/delivery/ports';
import { INTAKE_START_GRACE_MS, superviseOnce } from '../../../functions/saga/supervisor';
import type { SupervisorDeps } from '../../../functions/saga/supervisor';
import { recoveryInstanceId } from '../../../functions/names';
import { sagaStatusFor } from '../../support/saga-status';

const NOW = new Date('2026-11-22T12:00:00Z');
const MIN = 60_000;
const QUIET = 60 * MIN;
const GRACE = 5 * MIN;

const saga = sagaStatusFor({ now: NOW, dueAfterMs: QUIET });

function run(all: readonly SagaStatus[]) {
  const queries: SagaQuery[] = [];
  const intakeReads: string[] = [];
  const statusReads: string[] = [];
  const sagas: Sagas = {
    list: async (q) => {
      queries.push(q);
      return all.filter(
        (s) =>
          q.runtimeStatus.includes(s.runtimeStatus) &&
          (!q.createdFrom || s.createdAt >= q.createdFrom) &&
          (!q.createdTo || s.createdAt <= q.createdTo),
      );
    },
    status: async (id) => void statusReads.push(id),
    start: async () => 'started',
    signal: async () => 'delivered',
    resume: async () => undefined,
  };
  const intakes = {
    get: async (id: string) => void intakeReads.push(id),
    markSupervised: async () => undefined,
    claimRecovery: async () => true,
    listActive: async () => [],
    listStuck: async () => [],
  } as unknown as IntakeRecords;
  const deps: SupervisorDeps = {
    sagas,
    intakes,
    now: () => NOW,
    policy: { graceMs: GRACE, escalateAfterMs: 15 * MIN, pendingTooLongMs: 15 * MIN },
    retry: { attempts: 3, firstRetryMs: 1000, maxRetryMs: 60_000 },
    lookbackMs: 30 * 86_400_000,
    runningQuietMs: QUIET,
    log: () => undefined,
  };
  return { queries, intakeReads, statusReads, report: superviseOnce(deps) };
}

describe('the supervisor queries only what may need it', () => {
  it('asks for running sagas created before now minus the quiet time and grace (less the start grace), pending ones past their patience', async () => {
    const { queries, report } = run([]);
    await report;
    const running = queries.find((q) => q.runtimeStatus.includes('Running'));
    expect(running?.createdTo?.getTime()).toBe(NOW.getTime() - (QUIET + GRACE - INTAKE_START_GRACE_MS));
    expect(queries.find((q) => q.runtimeStatus.includes('Pending'))?.createdTo?.getTime()).toBe(
      NOW.getTime() - 15 * MIN,
    );
    expect(queries.find((q) => q.runtimeStatus.includes('Failed'))?.runtimeStatus).toEqual([
      'Failed',
      'Terminated',
      'Suspended',
    ]);
    for (const q of queries) expect(q.createdFrom?.getTime()).toBe(NOW.getTime() - 30 * 86_400_000);
  });

  it('examines young running sagas not at all, reads nothing behind healthy old ones, and reads intake and recovery only for overdue and dead ones', async () => {
    const { intakeReads, statusReads, report } = run([
      ...Array.from({ length: 50 }, (_, i) => saga(`young-${i}`, 'Running', 1, {})),
      saga('old-on-time', 'Running', 62, { completeBy: new Date(NOW.getTime() + 30 * MIN).toISOString() }),
      saga('overdue', 'Running', 120, {}),
      saga('dead', 'Failed', 30, {}),
      saga('dead-finished', 'Failed', 30, { finished: true }),
      saga('suspended', 'Suspended', 3, {}),
    ]);
    const r = await report;
    expect(r.examined).toBe(5);
    expect(r.requestCompensation).toBe(1);
    expect(r.recover).toBe(1);
    expect(r.resume).toBe(1);
    expect(intakeReads.sort()).toEqual(['dead', 'overdue']);
    expect(statusReads).toEqual([recoveryInstanceId('dead')]);
  });
});
