/**
 * The soak run's invariant check, read back from the pipeline's API at the end: every delivery
 * ends Delivered, Cancelled or Failed; none ends Failed after its drone reported Delivered; every
 * history is gapless (1..n) and holds its final event; milestones come only from the assigned
 * drone; every drone is free again; every request was accepted. Stuck deliveries are named with
 * their last event.
 */
import { FINAL_STAGES } from './customers';
import type { Delivery, FinalStage } from './customers';
import { sleep } from './pipeline';
import type { Api } from './pipeline';
import type { Drone } from './telemetry';

interface HistoryEvent {
  readonly type: string;
  readonly sequence: number;
  readonly occurredAt: string;
  readonly data?: { readonly droneId?: string };
}

export interface InvariantResult {
  readonly name: string;
  readonly ok: boolean;
  /** What broke it, one line each (empty when ok). */
  readonly violations: readonly string[];
}

export interface StuckDelivery {
  readonly deliveryId: string;
  readonly stage: string;
  readonly lastEvent?: { readonly type: string; readonly sequence: number; readonly occurredAt: string };
}

/** The operations identity the invariant checks read drones with (GET /api/drones needs a fleet role). */
const OPERATOR = { id: 'sim-operator', roles: ['Deliveries.Reader'] };

/** The event a history must end its forward part with for each final stage. */
const TERMINAL_EVENT: Record<FinalStage, string> = {
  Delivered: 'DeliveryCompleted',
  Cancelled: 'DeliveryCancelled',
  Failed: 'DeliveryFailed',
};
const MILESTONE_EVENTS = new Set(['PackagePickedUp', 'DeliveryInTransit', 'DeliveryCompleted']);

/** Pure: the delivery invariants from what the API answered for each delivery. */
export function checkDeliveries(
  observed: readonly {
    readonly delivery: Pick<Delivery, 'id' | 'droneReportedDelivered'>;
    readonly stage: string | undefined;
    readonly history: readonly HistoryEvent[] | undefined;
  }[],
): { results: InvariantResult[]; stuck: StuckDelivery[] } {
  const final: string[] = [];
  const failedAfterDelivered: string[] = [];
  const gapless: string[] = [];
  const fromAssigned: string[] = [];
  const stuck: StuckDelivery[] = [];
  for (const { delivery, stage, history } of observed) {
    const events = history ?? [];
    const last = events[events.length - 1];
    if (!stage || !FINAL_STAGES.includes(stage)) {
      final.push(`${delivery.id} is ${stage ?? 'unknown'}${last ? ` (last event ${last.sequence} ${last.type})` : ''}`);
      stuck.push({
        deliveryId: delivery.id,
        stage: stage ?? 'unknown',
        ...(last ? { lastEvent: { type: last.type, sequence: last.sequence, occurredAt: last.occurredAt } } : {}),
      });
    }
    if (stage === 'Failed' && delivery.droneReportedDelivered)
      failedAfterDelivered.push(`${delivery.id} ended Failed after its drone reported Delivered`);
    const expected = events.map((_, i) => i + 1);
    if (events.length === 0 || events.some((e, i) => e.sequence !== expected[i])) {
      gapless.push(`${delivery.id} history sequences ${events.map((e) => e.sequence).join(',') || '(none)'}`);
    } else if (
      stage &&
      FINAL_STAGES.includes(stage) &&
      !events.some((e) => e.type === TERMINAL_EVENT[stage as FinalStage])
    ) {
      gapless.push(
        `${delivery.id} is ${stage} but its history has no ${TERMINAL_EVENT[stage as FinalStage]} (events ${events.map((e) => e.type).join(', ')})`,
      );
    }
    const assigned = [...events].reverse().find((e) => e.type === 'DroneAssigned')?.data?.droneId;
    for (const e of events) {
      if (MILESTONE_EVENTS.has(e.type) && e.data?.droneId !== assigned)
        fromAssigned.push(`${delivery.id} ${e.type} from ${e.data?.droneId ?? '?'}, assigned ${assigned ?? 'none'}`);
    }
  }
  const result = (name: string, violations: string[]): InvariantResult => ({
    name,
    ok: violations.length === 0,
    violations,
  });
  return {
    results: [
      result('every delivery ends Delivered, Cancelled or Failed', final),
      result('none ends Failed after its drone reported Delivered', failedAfterDelivered),
      result('every history is gapless (1..n) and holds its final event', gapless),
      result('milestones come only from the assigned drone', fromAssigned),
    ],
    stuck,
  };
}

async function observeDeliveries(
  api: Api,
  deliveries: readonly Delivery[],
): Promise<{ delivery: Delivery; stage: string | undefined; history: HistoryEvent[] | undefined }[]> {
  const out: { delivery: Delivery; stage: string | undefined; history: HistoryEvent[] | undefined }[] = [];
  for (const delivery of deliveries) {
    const status = await api.call('GET', `/api/deliveries/${delivery.id}`, delivery.ownerId);
    const history = await api.call('GET', `/api/deliveries/${delivery.id}/history`, delivery.ownerId);
    out.push({
      delivery,
      stage: status.status === 200 ? (status.json as { stage?: string }).stage : undefined,
      history: history.status === 200 ? (history.json as { events?: HistoryEvent[] }).events : undefined,
    });
  }
  return out;
}

/** Every drone free again: no delivery in its state and no reservation. Polled for `graceMs`, since releases trail the final event. */
async function checkDrones(api: Api, drones: readonly Drone[], graceMs: number): Promise<InvariantResult> {
  const until = Date.now() + graceMs;
  for (;;) {
    const violations: string[] = [];
    for (const d of drones) {
      const r = await api.call('GET', `/api/drones/${d.id}`, OPERATOR.id, undefined, OPERATOR.roles);
      const view = r.json as { deliveryId?: string; reservedFor?: string; status?: string } | undefined;
      if (r.status !== 200) violations.push(`${d.id}: GET answered ${r.status}`);
      else if (view?.deliveryId || view?.reservedFor)
        violations.push(
          `${d.id} is ${view.status ?? '?'}${view.deliveryId ? `, on delivery ${view.deliveryId}` : ''}${view.reservedFor ? `, reserved for ${view.reservedFor}` : ''}`,
        );
    }
    if (violations.length === 0 || Date.now() >= until)
      return {
        name: 'every drone is free again (no delivery, no reservation)',
        ok: violations.length === 0,
        violations,
      };
    await sleep(1000);
  }
}

/** Every invariant of a finished run, in the summary's order, and the deliveries still open. */
export async function checkRun(
  api: Api,
  deliveries: readonly Delivery[],
  drones: readonly Drone[],
): Promise<{ results: InvariantResult[]; stuck: StuckDelivery[] }> {
  const accepted = deliveries.filter((d) => d.outcome !== 'Rejected');
  const observed = await observeDeliveries(api, accepted);
  const { results, stuck } = checkDeliveries(observed);
  results.push(await checkDrones(api, drones, 15_000));
  const rejected = deliveries.filter((d) => d.outcome === 'Rejected');
  results.push({
    name: 'every request is accepted',
    ok: rejected.length === 0,
    violations: rejected.map((d) => `${d.id} was rejected`),
  });
  return { results, stuck };
}
