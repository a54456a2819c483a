/**
 * The console's supervisor findings are the supervisor's own verdicts: for the same sagas, at the
 * same time, the findings name exactly the sagas the timer run acts on, with the same action and
 * reason, and computing them writes nothing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { IntakeRecord, IntakeRecords, Sagas, SagaStatus } from '../../../domain/delivery/ports';
import { supervisorFindings } from '../../../functions/ops/ops-queries';
import type { SupervisorFinding } from '../../../functions/ops/ops-queries';
import { superviseOnce } from '../../../functions/saga/supervisor';
import type { SupervisorDeps } from '../../../functions/saga/supervisor';
import { ORCHESTRATIONS, recoveryInstanceId } from '../../../functions/names';
import { matchesQuery, sagaStatusFor } from '../../support/saga-status';

const NOW = new Date('2026-11-22T12:00:00Z');
const MIN = 60_000;
const QUIET = 60 * MIN;

interface World {
  readonly sagas: readonly SagaStatus[];
  readonly intakes: readonly IntakeRecord[];
}

const saga = sagaStatusFor({ now: NOW, dueAfterMs: QUIET });

function intake(deliveryId: string, over: Partial<IntakeRecord> = {}): IntakeRecord {
  return { deliveryId, ownerId: 'o', canonical: '{}', requestedAt: NOW.toISOString(), active: true, ...over };
}

/** The saga and intake ports over fixed records; every write is recorded. */
function stores(world: World) {
  const writes: string[] = [];
  const intakeById = new Map(world.intakes.map((r) => [r.deliveryId, r]));
  const sagas: Sagas = {
    list: async (q) => world.sagas.filter((s) => matchesQuery(s, q)),
    status: async (id) => world.sagas.find((s) => s.instanceId === id),
    start: async (_name, id) => (writes.push(`start ${id}`), 'started'),
    signal: async (id, event) => (writes.push(`signal ${id} ${event}`), 'delivered'),
    resume: async (id) => void writes.push(`resume ${id}`),
  };
  const intakes = {
    get: async (id: string) => intakeById.get(id),
    markSupervised: async (id: string) => void writes.push(`markSupervised ${id}`),
    claimRecovery: async (id: string) => (writes.push(`claimRecovery ${id}`), true),
    listActive: async (before: string) => world.intakes.filter((r) => r.active && r.requestedAt < before),
    listUnconfirmed: async (before: string) =>
      world.intakes.filter((r) => r.active && r.requestedAt < before && r.sagaStartedAt === undefined),
    markSagaStarted: async (id: string) => void writes.push(`markSagaStarted ${id}`),
    listStuck: async () => [],
    close: async (id: string) => void writes.push(`close ${id}`),
    closeUnstarted: async (id: string) => (writes.push(`close ${id}`), true),
  } as unknown as IntakeRecords;
  return { sagas, intakes, writes };
}

function deps(s: ReturnType<typeof stores>, log: (e: Record<string, unknown>) => void): SupervisorDeps {
  return {
    sagas: s.sagas,
    intakes: s.intakes,
    now: () => NOW,
    policy: { graceMs: 5 * MIN, escalateAfterMs: 15 * MIN, pendingTooLongMs: 15 * MIN },
    retry: { attempts: 3, firstRetryMs: 1000, maxRetryMs: 60_000 },
    lookbackMs: 30 * 86_400_000,
    runningQuietMs: QUIET,
    log,
  };
}

/** Findings first (they must write nothing), then the timer run on the same records; what each saw. */
async function bothSides(world: World) {
  const s = stores(world);
  const logged: Record<string, unknown>[] = [];
  const d = deps(s, (e) => void logged.push(e));
  const { findings } = await supervisorFindings(d, { intakes: s.intakes, now: d.now });
  const writesByFindings = [...s.writes];
  const report = await superviseOnce(d);
  const acted: SupervisorFinding[] = logged
    .filter((e) => typeof e.action === 'string')
    .map((e) => ({
      deliveryId: String(e.deliveryId),
      runtimeStatus: String(e.runtimeStatus),
      ...(typeof e.stage === 'string' ? { stage: e.stage } : {}),
      action: String(e.action),
      reason: String(e.reason),
    }));
  return { findings, acted, report, writesByFindings };
}

describe('supervisor findings and the supervisor run', () => {
  it('see the same verdicts on the same sagas, and only the run acts on them', async () => {
    const world: World = {
      sagas: [
        saga('young', 'Running', 1, {}),
        saga('on-time', 'Running', 62, { completeBy: new Date(NOW.getTime() + 30 * MIN).toISOString() }),
        saga('overdue', 'Running', 120, {}),
        saga('asked-long-ago', 'Running', 120, {}),
        saga('pending-long', 'Pending', 40),
        saga('pending-new', 'Pending', 2),
        saga('dead', 'Failed', 30, { stage: 'Scheduling' }),
        saga('dead-finished', 'Failed', 30, { finished: true }),
        saga('dead-early', 'Terminated', 30),
        saga('dead-again', 'Failed', 30, {}),
        saga(recoveryInstanceId('dead-again'), 'Failed', 20, undefined, ORCHESTRATIONS.deliveryRecovery),
        saga('suspended', 'Suspended', 3, {}),
        saga('a-job', 'Suspended', 3, undefined, 'rebuildViewsJob'),
      ],
      intakes: [intake('asked-long-ago', { supervisorRequestedAt: new Date(NOW.getTime() - 20 * MIN).toISOString() })],
    };
    const { findings, acted, report, writesByFindings } = await bothSides(world);
    expect(writesByFindings).toEqual([]);
    expect(findings).toEqual(acted);
    expect(new Map(findings.map((f) => [f.deliveryId, f.action]))).toEqual(
      new Map([
        ['overdue', 'requestCompensation'],
        ['asked-long-ago', 'alert'],
        ['pending-long', 'alert'],
        ['dead', 'recover'],
        ['dead-early', 'alert'],
        ['dead-again', 'alert'],
        ['suspended', 'resume'],
      ]),
    );
    expect(report.examined - report.none).toBe(findings.length);
  });

  it('agree on any mix of sagas (property)', async () => {
    const statuses = ['Pending', 'Running', 'Completed', 'Failed', 'Terminated', 'Suspended'] as const;
    const sagaArb = fc.record({
      status: fc.constantFrom(...statuses),
      // Up to three days: old dead sagas are found through their open intakes, young ones listed.
      ageMin: fc.integer({ min: 0, max: 3 * 24 * 60 }),
      progress: fc.option(fc.record({ finished: fc.boolean(), dueInMin: fc.integer({ min: -300, max: 300 }) }), {
        nil: undefined,
      }),
      intake: fc.option(
        fc.record({
          active: fc.boolean(),
          started: fc.boolean(),
          askedMinAgo: fc.option(fc.integer({ min: 0, max: 60 })),
        }),
        {
          nil: undefined,
        },
      ),
      recovery: fc.option(fc.constantFrom(...statuses), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(sagaArb, { maxLength: 25 }), async (specs) => {
        const world: World = {
          sagas: specs.flatMap((x, i) => [
            saga(
              `d${i}`,
              x.status,
              x.ageMin,
              x.progress && {
                finished: x.progress.finished,
                completeBy: new Date(NOW.getTime() + x.progress.dueInMin * MIN).toISOString(),
              },
            ),
            ...(x.recovery
              ? [saga(recoveryInstanceId(`d${i}`), x.recovery, 1, undefined, ORCHESTRATIONS.deliveryRecovery)]
              : []),
          ]),
          intakes: specs.flatMap((x, i) =>
            x.intake
              ? [
                  intake(`d${i}`, {
                    // Requested when its saga was created, as the intake stamps it.
                    requestedAt: new Date(NOW.getTime() - x.ageMin * MIN).toISOString(),
                    ...(x.intake.started ? { sagaStartedAt: 'x' } : {}),
                    active: x.intake.active,
                    ...(x.intake.askedMinAgo !== null
                      ? { supervisorRequestedAt: new Date(NOW.getTime() - x.intake.askedMinAgo * MIN).toISOString() }
                      : {}),
                  }),
                ]
              : [],
          ),
        };
        const { findings, acted, writesByFindings } = await bothSides(world);
        expect(writesByFindings).toEqual([]);
        expect(findings).toEqual(acted);
      }),
      { numRuns: 200 },
    );
  });
});
