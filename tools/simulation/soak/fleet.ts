/**
 * The soak simulator's drone fleet: drones registered by telemetry around Seattle, idle
 * heartbeats, each assigned delivery flown (EnRouteToPickup → PickedUp → EnRouteToDropoff →
 * Delivered → Returning → Idle) in scaled time, the wrong drone's milestone, and the sign-off.
 */
import type { Delivery } from './customers';
import { CRUISE_MPS, SEATTLE, metres } from './geo';
import type { Position } from './geo';
import type { Options } from './options';
import { sleep } from './pipeline';
import type { Drone, Telemetry } from './telemetry';

/** Flies toward `target`; resolves false, where it stands, when `stop()` says the flight is off. */
async function flyTo(
  d: Drone,
  target: Position,
  status: string,
  deliveryId: string | undefined,
  t: Telemetry,
  o: Options,
  stop: () => boolean = () => false,
): Promise<boolean> {
  const distance = metres(d.position, target);
  const realMs = ((distance / CRUISE_MPS) * 1000) / o.speedup;
  const steps = Math.max(1, Math.ceil(realMs / o.intervalMs));
  const from = { ...d.position };
  for (let i = 1; i <= steps; i++) {
    if (stop()) return false;
    const f = i / steps;
    d.position = { lat: from.lat + (target.lat - from.lat) * f, lon: from.lon + (target.lon - from.lon) * f };
    d.battery = Math.max(31, d.battery - 0.05);
    await t.send(d, t.event(d, status, deliveryId, CRUISE_MPS), i < steps);
    await sleep(o.intervalMs);
  }
  return true;
}

/** One delivery's flight; a cancel accepted before the drop-off sends the drone home empty. */
async function fly(d: Drone, delivery: Delivery, home: Position, t: Telemetry, o: Options): Promise<void> {
  const cancelled = (): boolean => delivery.cancelAccepted;
  let done = (await flyTo(d, delivery.pickup, 'EnRouteToPickup', delivery.id, t, o, cancelled)) && !cancelled();
  if (done) {
    await t.send(d, t.event(d, 'PickedUp', delivery.id));
    done = (await flyTo(d, delivery.dropoff, 'EnRouteToDropoff', delivery.id, t, o, cancelled)) && !cancelled();
  }
  if (done) {
    delivery.droneReportedDelivered = true;
    await t.send(d, t.event(d, 'Delivered', delivery.id));
    await flyTo(d, home, 'Returning', delivery.id, t, o);
  } else {
    await flyTo(d, home, 'Returning', undefined, t, o);
  }
  d.battery = Math.min(100, d.battery + 20);
  await t.send(d, t.event(d, 'Idle'));
}

/** This run's drones, each with the home it returns to after a flight. */
export class Fleet {
  readonly #drones = new Map<string, Drone>();
  readonly #homes = new Map<string, Position>();
  #heartbeat: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly o: Options,
    private readonly t: Telemetry,
    private readonly random: () => number,
    runId: string,
    near: (spread: number) => Position,
  ) {
    for (let i = 0; i < o.drones; i++) {
      const d: Drone = {
        id: `sim-${runId}-drone-${i}`,
        sequence: 0,
        position: near(0.1),
        battery: 80 + random() * 20,
        flying: Promise.resolve(),
        flights: 0,
      };
      this.#drones.set(d.id, d);
      this.#homes.set(d.id, { ...d.position });
    }
  }

  get drones(): Drone[] {
    return [...this.#drones.values()];
  }

  get(id: string): Drone | undefined {
    return this.#drones.get(id);
  }

  /** Every drone reports Idle once; from then on idle drones send heartbeats every `--heartbeat`. */
  async register(): Promise<void> {
    const t = this.t;
    for (const d of this.#drones.values()) await t.send(d, t.event(d, 'Idle'));
    // Idle drones keep reporting, or the pipeline stops assigning them after DroneFreshnessMinutes.
    this.#heartbeat = setInterval(() => {
      const idle = [...this.#drones.values()].filter((d) => d.flights === 0);
      if (idle.length === 0) return;
      t.counters.heartbeats += idle.length;
      t.sendPlain(idle.map((d) => t.event(d, 'Idle'))).catch((e: unknown) =>
        console.warn(`heartbeat: ${(e as Error).message}`),
      );
    }, this.o.heartbeatMs);
  }

  /** Queues `delivery`'s flight behind the drone's earlier ones; resolves when it has flown. */
  fly(drone: Drone, delivery: Delivery): Promise<void> {
    drone.flights++;
    drone.flying = drone.flying
      .then(() => fly(drone, delivery, this.#homes.get(drone.id) ?? SEATTLE, this.t, this.o))
      .catch((e: unknown) => console.warn(`flight ${delivery.id}: ${(e as Error).message}`))
      .finally(() => void drone.flights--);
    return drone.flying;
  }

  /** A milestone from another drone than the assigned one: the pipeline must not count it. */
  async sendWrongDrone(delivery: Delivery, assigned: string): Promise<void> {
    const t = this.t;
    const others = [...this.#drones.values()].filter((d) => d.id !== assigned);
    const idle = others.filter((d) => d.flights === 0);
    const pool = idle.length > 0 ? idle : others;
    const other = pool[Math.floor(this.random() * pool.length)];
    if (!other) return;
    delivery.wrongDroneId = other.id;
    t.counters.wrongDrone++;
    const events = [t.event(other, 'PickedUp', delivery.id)];
    // An idle impostor reports Idle again at once, so it stays assignable.
    if (other.flights === 0) events.push(t.event(other, 'Idle'));
    await t.sendPlain(events);
  }

  /** Resolves when every drone has flown all its flights. */
  async landed(): Promise<void> {
    await Promise.all([...this.#drones.values()].map((d) => d.flying));
  }

  /**
   * Stops the heartbeats, and the fleet docks (Charging), so a later run on the same pipeline is
   * not handed drones nobody flies any more while their last Idle report is still fresh.
   */
  async signOff(): Promise<void> {
    clearInterval(this.#heartbeat);
    await this.t
      .sendPlain([...this.#drones.values()].map((d) => this.t.event(d, 'Charging')))
      .catch((e: unknown) => console.warn(`sign-off: ${(e as Error).message}`));
  }
}
