/**
 * The soak simulator's customers: deliveries requested over HTTP at `--rate` (waiting out 429s),
 * each polled until a drone is assigned and the delivery ends, handed to the fleet to fly, and,
 * for `--cancel`'s share, cancelled at a random moment.
 */
import type { Fleet } from './fleet';
import { CRUISE_MPS, SEATTLE, metres } from './geo';
import type { Position } from './geo';
import type { Options } from './options';
import { sleep } from './pipeline';
import type { Api } from './pipeline';

export type FinalStage = 'Delivered' | 'Failed' | 'Cancelled';
export const FINAL_STAGES: readonly string[] = ['Delivered', 'Failed', 'Cancelled'];

export interface Delivery {
  readonly id: string;
  readonly ownerId: string;
  readonly pickup: Position;
  readonly dropoff: Position;
  requestedAt?: number;
  assignedAt?: number;
  deliveredAt?: number;
  droneId?: string;
  outcome?: FinalStage | 'Rejected' | 'TimedOut';
  /** The answer to this delivery's DELETE, when one was sent. */
  cancelStatus?: number;
  /** A cancel was accepted: the drone stops flying it and goes home. */
  cancelAccepted: boolean;
  /** The assigned drone sent its Delivered report. */
  droneReportedDelivered: boolean;
  /** The drone that sent a milestone for it without being assigned. */
  wrongDroneId?: string;
}

/** How often a customer asks for its delivery's status: while it flies, and while it waits for a drone. */
const POLL_FLYING_MS = 1000;
const POLL_WAITING_MS = 2000;

/** This run's customers and every delivery they requested; none is followed past `deadline`. */
export class Customers {
  /** Every delivery requested so far, in order. */
  readonly deliveries: Delivery[] = [];
  readonly #cancels: Promise<void>[] = [];

  constructor(
    private readonly o: Options,
    private readonly api: Api,
    private readonly fleet: Fleet,
    private readonly random: () => number,
    private readonly deadline: number,
  ) {}

  /** Requests `--deliveries` deliveries at `--rate`; resolves when each has ended and every cancel was sent. */
  async requestAll(runId: string, near: (spread: number) => Position): Promise<void> {
    const o = this.o;
    const owners = Math.max(1, Math.min(10, Math.ceil(o.deliveries / 5)));
    const followers: Promise<void>[] = [];
    for (let i = 0; i < o.deliveries; i++) {
      const delivery: Delivery = {
        id: `sim-${runId}-${i}`,
        ownerId: `sim-customer-${i % owners}`,
        pickup: near(0.08),
        dropoff: near(0.08),
        cancelAccepted: false,
        droneReportedDelivered: false,
      };
      this.deliveries.push(delivery);
      followers.push(
        this.#follow(delivery).catch((e: unknown) => console.warn(`delivery ${delivery.id}: ${(e as Error).message}`)),
      );
      await sleep(1000 / o.rate);
    }
    await Promise.all(followers);
    await Promise.all(this.#cancels);
  }

  #scheduleCancel(delivery: Delivery): void {
    const { o, api, random, deadline } = this;
    // Anywhere from before assignment to after the drop-off: a typical flight, in real time, twice.
    const flightMs =
      ((metres(SEATTLE, delivery.pickup) + metres(delivery.pickup, delivery.dropoff)) / CRUISE_MPS / o.speedup) * 1000;
    const delayMs = random() * Math.max(2000, 2 * flightMs);
    this.#cancels.push(
      sleep(delayMs).then(async () => {
        // Sent even when the delivery has finished meanwhile: the answer is then a 409, which is fine.
        if (Date.now() > deadline) return;
        const r = await api.call('DELETE', `/api/deliveries/${delivery.id}`, delivery.ownerId);
        delivery.cancelStatus = r.status;
        if (r.status === 202) delivery.cancelAccepted = true;
        else if (r.status !== 409) console.warn(`cancel ${delivery.id}: ${r.status} ${JSON.stringify(r.json)}`);
      }),
    );
  }

  async #follow(delivery: Delivery): Promise<void> {
    const { o, api, fleet, random, deadline } = this;
    for (;;) {
      // 429: the pipeline bounds sagas in flight; wait as told.
      const r = await api.call('POST', '/api/deliveries', delivery.ownerId, {
        deliveryId: delivery.id,
        pickup: delivery.pickup,
        dropoff: delivery.dropoff,
        package: {
          size: (['small', 'medium', 'large'] as const)[Math.floor(random() * 3)],
          weightKg: Math.round((0.5 + random() * 10) * 10) / 10,
        },
      });
      if (r.status === 429 && Date.now() < deadline) {
        await sleep(Number(r.headers.get('retry-after') ?? '1') * 1000);
        continue;
      }
      if (r.status !== 202 && r.status !== 200) {
        delivery.outcome = 'Rejected';
        console.warn(`request ${delivery.id}: ${r.status} ${JSON.stringify(r.json)}`);
        return;
      }
      break;
    }
    delivery.requestedAt = Date.now();
    if (random() < o.cancel) this.#scheduleCancel(delivery);
    const wrongDrone = random() < o.wrongDrone;
    let flight: Promise<void> | undefined;
    while (Date.now() < deadline) {
      const r = await api.call('GET', `/api/deliveries/${delivery.id}`, delivery.ownerId);
      const view = r.status === 200 ? (r.json as { stage?: string; droneId?: string }) : undefined;
      if (view?.droneId && !flight && delivery.droneId === undefined) {
        const drone = fleet.get(view.droneId);
        delivery.assignedAt = Date.now();
        delivery.droneId = view.droneId;
        if (wrongDrone) await fleet.sendWrongDrone(delivery, view.droneId);
        if (!drone)
          console.warn(
            `delivery ${delivery.id}: assigned ${view.droneId}, which is not one of this run's drones; nobody will fly it`,
          );
        if (drone) flight = fleet.fly(drone, delivery);
      }
      if (view?.stage && FINAL_STAGES.includes(view.stage)) {
        delivery.outcome = view.stage as FinalStage;
        if (view.stage === 'Delivered') delivery.deliveredAt = Date.now();
        // A delivery that ended otherwise (cancelled, failed) while its drone flies: the drone goes home.
        if (view.stage !== 'Delivered') delivery.cancelAccepted = true;
        await flight;
        return;
      }
      // A customer's app polls, it does not hammer: 200 deliveries polled four times a second were
      // most of the local runtime's load and slowed the very pipeline under test.
      await sleep(view?.droneId ? POLL_FLYING_MS : POLL_WAITING_MS);
    }
    delivery.outcome = 'TimedOut';
    delivery.cancelAccepted = true;
  }
}
