/**
 * The saga's invariants, checked on one delivery after a simulated run, whatever the
 * simulation (the pure one over the workflow, or the real app on the Durable engine). Each
 * returns a sentence when it is broken.
 */
import type { DeliveryEvent } from '../../domain/delivery/events';
import type { SagaResult } from '../../domain/delivery/saga';
import { foldStatus, gaplessPrefix } from '../../domain/delivery/status';

/** What the world saw happen to a delivery, by the simulation's own clock (ms). */
export interface DeliveryFacts {
  readonly deliveryId: string;
  flying: boolean;
  killed: boolean;
  killedAt?: number;
  /** The first cancel or supervisor request that reached a live saga. */
  firstStopAt?: number;
  /** The first milestone report from the assigned drone that reached a live saga. */
  firstReportAt?: number;
  /** The first Delivered report from the assigned drone that reached a live saga. */
  deliveredReportAt?: number;
  /** When the saga fixed its outcome (set by simulations that can see it). */
  decidedAt?: number;
  /** The cancel or supervisor request that fixed the outcome, when one did. */
  decidedBy?: 'cancel' | 'supervisor';
}

export interface InvariantInput {
  readonly facts: DeliveryFacts;
  readonly result?: SagaResult;
  /** The failure code the saga ended with, when Failed. */
  readonly failureCode?: string;
  /** Every copy the stream's consumers received, in arrival order (duplicates included). */
  readonly events: readonly DeliveryEvent[];
  readonly holdsDrone: boolean;
  readonly packageActive: boolean;
  readonly pickupBy?: number;
  readonly deliverBy?: number;
  readonly finishedAt?: number;
  readonly completeBy?: number;
  /** How long past complete-by a delivery may take to finish (compensation rounds, retries). */
  readonly slackMs?: number;
}

export interface InvariantReport {
  readonly checked: number;
  readonly violations: string[];
}

export const INVARIANTS = [
  'ends Delivered, Cancelled or Failed',
  'ends within its complete-by time plus a bound',
  'a Delivered report from the assigned drone before any other outcome ends Delivered, and only such a report does',
  'no drone reserved and no package active once it ends (unless a compensation was given up)',
  'the stream is gapless, with one event per sequence number',
  'each milestone at most once, and only from the assigned drone',
  'one terminal event, matching the outcome',
  'the status view equals the fold of the stream',
  'a compensation is announced only for a step the stream announced',
  'a cancel or supervisor request that fixed the outcome is the outcome',
] as const;

export function checkDeliveryInvariants(i: InvariantInput): InvariantReport {
  const violations: string[] = [];
  const fail = (n: number, detail: string): void => {
    violations.push(`[${INVARIANTS[n]}] ${detail}`);
  };
  const outcome = i.result?.outcome;
  const f = i.facts;

  if (!outcome) fail(0, 'the saga never finished');
  if (
    outcome &&
    i.finishedAt !== undefined &&
    i.completeBy !== undefined &&
    i.finishedAt > i.completeBy + (i.slackMs ?? 24 * 3_600_000)
  ) {
    fail(1, `finished at ${new Date(i.finishedAt).toISOString()}, complete-by ${new Date(i.completeBy).toISOString()}`);
  }

  const reported = f.deliveredReportAt;
  const before = (t: number | undefined): boolean => reported !== undefined && (t === undefined || reported < t);
  const inTime =
    reported !== undefined &&
    i.pickupBy !== undefined &&
    i.deliverBy !== undefined &&
    (f.firstReportAt ?? reported) < i.pickupBy &&
    reported < i.deliverBy;
  const earned =
    reported !== undefined &&
    before(f.firstStopAt) &&
    before(f.killedAt) &&
    (f.decidedAt === undefined || reported <= f.decidedAt) &&
    inTime;
  if (outcome && earned && outcome !== 'Delivered')
    fail(2, `the drone reported Delivered in time at ${new Date(reported).toISOString()}, yet it ended ${outcome}`);
  if (outcome === 'Delivered' && reported === undefined)
    fail(2, 'ended Delivered without a Delivered report from its drone');

  const stuck = outcome === 'Failed' && i.failureCode === 'CompensationStuck';
  if (outcome && (i.holdsDrone || i.packageActive) && !stuck)
    fail(
      3,
      `${i.holdsDrone ? 'a drone is still reserved' : ''}${i.holdsDrone && i.packageActive ? ' and ' : ''}${i.packageActive ? 'the package is still active' : ''}`,
    );

  const bySequence = new Map<number, DeliveryEvent>();
  for (const e of i.events) {
    const seen = bySequence.get(e.sequence);
    if (seen && JSON.stringify(seen) !== JSON.stringify(e))
      fail(4, `two different events at sequence ${e.sequence}: ${seen.type} and ${e.type}`);
    if (!seen) bySequence.set(e.sequence, e);
  }
  const stream = [...bySequence.values()].sort((a, b) => a.sequence - b.sequence);
  stream.forEach((e, at) => {
    if (e.sequence !== at + 1) fail(4, `sequence ${at + 1} is missing (next is ${e.sequence})`);
  });

  const assigned = stream.find((e) => e.type === 'DroneAssigned');
  const assignedDrone = assigned?.type === 'DroneAssigned' ? assigned.data.droneId : undefined;
  for (const type of ['PackagePickedUp', 'DeliveryInTransit', 'DeliveryCompleted'] as const) {
    const found = stream.filter((e) => e.type === type);
    if (found.length > 1) fail(5, `${type} appears ${found.length} times`);
    for (const e of found) {
      const drone = (e.data as { droneId?: string }).droneId;
      if (drone !== assignedDrone)
        fail(5, `${type} from drone ${drone ?? '(none)'}, assigned ${assignedDrone ?? '(none)'}`);
    }
  }

  const terminals = stream.filter(
    (e) => e.type === 'DeliveryCompleted' || e.type === 'DeliveryCancelled' || e.type === 'DeliveryFailed',
  );
  if (outcome) {
    const expected =
      outcome === 'Delivered' ? 'DeliveryCompleted' : outcome === 'Cancelled' ? 'DeliveryCancelled' : 'DeliveryFailed';
    if (terminals.length !== 1 || terminals[0]?.type !== expected)
      fail(6, `terminal events ${JSON.stringify(terminals.map((e) => e.type))} for outcome ${outcome}`);
    const last = stream.at(-1);
    if (outcome !== 'Delivered' && last?.type !== expected) fail(6, `the stream ends with ${last?.type ?? 'nothing'}`);
  }

  // The projector keeps the first copy of each sequence and folds the gapless prefix.
  const view = foldStatus(gaplessPrefix(stream));
  if (outcome && (!view || view.stage !== outcome || view.version !== stream.length)) {
    fail(
      7,
      `view ${view ? `${view.stage} v${view.version}` : 'missing'} for outcome ${outcome} over ${stream.length} events`,
    );
  }

  const announced = (type: DeliveryEvent['type'], upTo: number): boolean =>
    stream.some((e) => e.type === type && e.sequence < upTo);
  for (const e of stream) {
    if (e.type === 'PackageCancelled' && !announced('PackageCreated', e.sequence))
      fail(8, `PackageCancelled at ${e.sequence} without PackageCreated`);
    if (e.type === 'DroneReleased' && !announced('DroneAssigned', e.sequence))
      fail(8, `DroneReleased at ${e.sequence} without DroneAssigned`);
  }
  if (outcome && f.decidedBy) {
    const expected = f.decidedBy === 'cancel' ? 'Cancelled' : 'Failed';
    const code = f.decidedBy === 'supervisor' ? 'SupervisorTimeout' : undefined;
    const ok = (outcome === expected && (code === undefined || i.failureCode === code)) || stuck;
    if (!ok)
      fail(9, `decided by a ${f.decidedBy} request, ended ${outcome}${i.failureCode ? ` (${i.failureCode})` : ''}`);
  }
  return { checked: INVARIANTS.length, violations };
}
