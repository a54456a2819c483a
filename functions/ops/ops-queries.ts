/**
 * The operations console's use cases (Deliveries.Admin only, checked before anything is read):
 * the fleet with freshness, the deliveries with counts per stage and late/stuck marks, one
 * delivery's event stream beside its saga's durable history, the dead letters and their
 * replay, the supervisor's current findings, and hub lag. Each is a read of a store the rest
 * of the app writes; only a replay writes (through the archive's idempotent claim).
 */
import { DELIVERY_STAGES } from '../../domain/delivery/status';
import type { DeliveryStage, DeliveryStatusView } from '../../domain/delivery/status';
import type { IntakeRecords } from '../../domain/delivery/ports';
import { isAdmin } from '../../domain/shared/caller';
import type { Caller } from '../../domain/shared/caller';
import { err, ok, validationFailed } from '../../domain/shared/errors';
import type { Result } from '../../domain/shared/errors';
import { deliveryFlags, partitionLag, stageCounts } from '../../domain/ops/ops-view';
import type { DeliveryFlags, OpsSla, StageCounts } from '../../domain/ops/ops-view';
import type {
  DeadLetterArchive,
  FleetListing,
  HubPositions,
  ReplayOutcome,
  StatusViewListing,
} from '../../domain/ops/ports';
import { isStale } from '../../domain/telemetry/drone-state';
import type { DroneState } from '../../domain/telemetry/drone-state';
import { recoveryInstanceId } from '../names';
import { supervisorVerdicts } from '../saga/supervisor';
import type { SupervisorReads } from '../saga/supervisor';
import type { DeliveryHistory, StatusQueryDeps } from '../history/status-queries';
import { getDeliveryHistory } from '../history/status-queries';
import type { TimelineEntry } from './saga-timeline';

/** Lists are bounded: the console shows a fleet and its recent deliveries, not an export. */
export const OPS_LIST_LIMIT = 2000;

export interface OpsDeps {
  readonly fleet: FleetListing;
  readonly views: StatusViewListing;
  readonly deadLetters: DeadLetterArchive;
  readonly hubs: HubPositions;
  readonly intakes: Pick<IntakeRecords, 'get' | 'listStuck'>;
  readonly sla: OpsSla;
  readonly droneFreshnessMs: number;
  readonly now: () => Date;
}

const forbidden = { code: 'Forbidden', message: 'The operations console is for Deliveries.Admin.' } as const;

export function requireAdmin(caller: Caller): Result<true> {
  return isAdmin(caller) ? ok(true) : err(forbidden);
}

export interface FleetEntry extends DroneState {
  readonly stale: boolean;
}

export async function listFleet(
  deps: OpsDeps,
): Promise<{ drones: FleetEntry[]; freshnessMinutes: number; truncated: boolean }> {
  const now = deps.now();
  const states = await deps.fleet.list(OPS_LIST_LIMIT);
  const drones = states
    .map((s) => ({ ...s, stale: isStale(s, now, deps.droneFreshnessMs) }))
    .sort((a, b) => a.droneId.localeCompare(b.droneId));
  return { drones, freshnessMinutes: deps.droneFreshnessMs / 60_000, truncated: states.length >= OPS_LIST_LIMIT };
}

export function parseStage(value: string | null): Result<DeliveryStage | undefined> {
  if (value === null || value === '') return ok(undefined);
  const stage = DELIVERY_STAGES.find((s) => s === value);
  if (stage) return ok(stage);
  return err(
    validationFailed('The status filter is not a stage.', [
      { path: '/status', message: `must be one of ${DELIVERY_STAGES.join(', ')}` },
    ]),
  );
}

export type FlaggedDelivery = DeliveryStatusView & DeliveryFlags;

export async function listDeliveries(
  stage: DeliveryStage | undefined,
  deps: OpsDeps,
): Promise<{ counts: StageCounts; deliveries: FlaggedDelivery[]; truncated: boolean }> {
  const now = deps.now();
  // Counts are over every view; the list is the filtered part of the same read.
  const all = await deps.views.list({}, OPS_LIST_LIMIT);
  const flagged = all
    .filter((v) => stage === undefined || v.stage === stage)
    .map((v) => ({ ...v, ...deliveryFlags(v, now, deps.sla) }))
    .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt) || a.deliveryId.localeCompare(b.deliveryId));
  return { counts: stageCounts(all), deliveries: flagged, truncated: all.length >= OPS_LIST_LIMIT };
}

export interface SagaHistory {
  readonly instanceId: string;
  readonly runtimeStatus: string;
  readonly createdAt: string;
  readonly lastUpdatedAt: string;
  readonly entries: readonly TimelineEntry[];
}

export interface DeliveryTimeline {
  readonly deliveryId: string;
  readonly events: DeliveryHistory['events'];
  /** The saga, then its recovery when one ran. */
  readonly sagas: readonly SagaHistory[];
}

export async function deliveryTimeline(
  caller: Caller,
  deliveryId: string,
  statusDeps: StatusQueryDeps,
  sagaHistory: (instanceId: string) => Promise<SagaHistory | undefined>,
): Promise<Result<DeliveryTimeline>> {
  const [history, saga, recovery] = await Promise.all([
    getDeliveryHistory(caller, deliveryId, statusDeps),
    sagaHistory(deliveryId),
    sagaHistory(recoveryInstanceId(deliveryId)),
  ]);
  const sagas = [saga, recovery].filter((s): s is SagaHistory => s !== undefined);
  // A delivery is known once it has a stream or a saga: a saga may run before its first event is projected.
  if (!history.ok && sagas.length === 0) return history;
  return ok({ deliveryId, events: history.ok ? history.value.events : [], sagas });
}

export interface DeadLetterEntry {
  readonly id: string;
  readonly source: string;
  readonly reason: string;
  readonly errors: readonly { path: string; message: string }[];
  readonly origin: Record<string, unknown>;
  readonly deadLetteredAt: string;
  readonly body: string;
  readonly bodyEncoding: 'utf8' | 'base64';
  readonly lastError?: string;
  readonly replayedAt?: string;
  readonly replayedTo?: string;
}

export async function listDeadLetters(
  filter: { source?: string; reason?: string },
  deps: OpsDeps,
): Promise<{ deadLetters: DeadLetterEntry[]; truncated: boolean }> {
  const stored = await deps.deadLetters.list(filter, OPS_LIST_LIMIT);
  const deadLetters = stored
    .map(({ id, letter, replayedAt, replayedTo }) => ({
      id,
      source: letter.source,
      reason: letter.reason,
      errors: letter.errors ?? [],
      origin: { ...letter.origin },
      deadLetteredAt: letter.deadLetteredAt,
      body: letter.rawBody,
      bodyEncoding: letter.rawBodyEncoding,
      ...(letter.lastError ? { lastError: letter.lastError } : {}),
      ...(replayedAt ? { replayedAt } : {}),
      ...(replayedTo ? { replayedTo } : {}),
    }))
    .sort((a, b) => b.deadLetteredAt.localeCompare(a.deadLetteredAt) || a.id.localeCompare(b.id));
  return { deadLetters, truncated: stored.length >= OPS_LIST_LIMIT };
}

export function replayDeadLetter(id: string, deps: OpsDeps): Promise<ReplayOutcome> {
  return deps.deadLetters.replay(id);
}

export interface SupervisorFinding {
  readonly deliveryId: string;
  readonly runtimeStatus: string;
  readonly stage?: string;
  readonly action: string;
  readonly reason: string;
}

/**
 * What the supervisor would do now, without doing it: the verdicts its timer run computes (the
 * same candidates, the same reads), less the sagas it would leave alone, and the compensations
 * it gave up on.
 */
export async function supervisorFindings(
  supervisor: SupervisorReads,
  deps: Pick<OpsDeps, 'intakes' | 'now'>,
): Promise<{ findings: SupervisorFinding[]; stuckCompensations: string[] }> {
  const verdicts = await supervisorVerdicts(supervisor, deps.now());
  const findings = verdicts.flatMap(({ saga, verdict }): SupervisorFinding[] =>
    verdict.action === 'none'
      ? []
      : [
          {
            deliveryId: saga.instanceId,
            runtimeStatus: saga.runtimeStatus,
            ...(saga.progress?.stage ? { stage: saga.progress.stage } : {}),
            action: verdict.action,
            reason: verdict.reason,
          },
        ],
  );
  const stuck = await deps.intakes.listStuck();
  return { findings, stuckCompensations: stuck.map((s) => s.deliveryId) };
}

export async function hubLag(deps: OpsDeps): Promise<Record<string, unknown>> {
  const report = await deps.hubs.read();
  if (!report.available) return { available: false, reason: report.reason };
  return {
    available: true,
    consumers: report.consumers.map((c) => ({
      hub: c.hub,
      consumerGroup: c.consumerGroup,
      partitions: c.partitions.map((p) => ({ ...p, lag: partitionLag(p) })),
      totalLag: c.partitions.reduce((sum, p) => sum + partitionLag(p), 0),
    })),
  };
}
