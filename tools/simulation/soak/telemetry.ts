/**
 * A simulated drone and its telemetry: the events it reports, published to the pipeline with
 * duplicates, reordering and poison injected as the options ask, and the counts of each.
 */
import { round } from './geo';
import type { Position } from './geo';
import type { Options } from './options';
import { whileUnreachable } from './pipeline';
import type { EventPublisher, OutgoingEvent } from '../../../domain/shared/ports';

export interface Drone {
  readonly id: string;
  sequence: number;
  position: Position;
  battery: number;
  /** Flights of one drone happen one after another. */
  flying: Promise<void>;
  /** Flights queued or under way; an idle drone (none) sends heartbeats. */
  flights: number;
}

export interface Counters {
  telemetry: number;
  duplicates: number;
  reordered: number;
  poison: number;
  heartbeats: number;
  wrongDrone: number;
}

/** Publishes a drone's telemetry, injecting duplicates, reordering and poison as asked. */
export class Telemetry {
  readonly counters: Counters = { telemetry: 0, duplicates: 0, reordered: 0, poison: 0, heartbeats: 0, wrongDrone: 0 };
  readonly #held = new Map<string, OutgoingEvent>();

  constructor(
    private readonly publisher: EventPublisher,
    private readonly o: Options,
    private readonly random: () => number,
  ) {}

  event(d: Drone, status: string, deliveryId?: string, speedMps = 0): OutgoingEvent {
    d.sequence += 1;
    return {
      partitionKey: d.id,
      body: {
        schemaVersion: 1,
        droneId: d.id,
        sequence: d.sequence,
        timestamp: new Date().toISOString(),
        position: { lat: round(d.position.lat), lon: round(d.position.lon), altitudeM: status === 'Idle' ? 0 : 120 },
        batteryPct: Math.round(d.battery * 10) / 10,
        speedMps,
        status,
        ...(deliveryId ? { deliveryId } : {}),
      },
    };
  }

  /** `reorderable`: an in-flight position report, which may be overtaken by the next one. */
  async send(d: Drone, event: OutgoingEvent, reorderable = false): Promise<void> {
    const out: OutgoingEvent[] = [];
    if (reorderable && !this.#held.has(d.id) && this.random() < this.o.reorder) {
      this.#held.set(d.id, event);
      this.counters.reordered++;
      return;
    }
    out.push(event);
    const held = this.#held.get(d.id);
    if (held) {
      out.push(held);
      this.#held.delete(d.id);
    }
    if (this.random() < this.o.duplicates) {
      out.push(event);
      this.counters.duplicates++;
    }
    if (this.random() < this.o.poison) {
      out.push(this.poison(d));
      this.counters.poison++;
    }
    this.counters.telemetry++;
    await whileUnreachable(() => this.publisher.publish('telemetry', out));
  }

  /** Exactly these events, no faults injected (heartbeats, the wrong drone's report). */
  async sendPlain(events: readonly OutgoingEvent[]): Promise<void> {
    this.counters.telemetry += events.length;
    await whileUnreachable(() => this.publisher.publish('telemetry', events));
  }

  poison(d: Drone): OutgoingEvent {
    const kind = Math.floor(this.random() * 3);
    if (kind === 0) return { partitionKey: d.id, body: '{"droneId": "truncated' };
    if (kind === 1)
      return { partitionKey: d.id, body: { schemaVersion: 1, droneId: d.id, sequence: -1, status: 'Teleporting' } };
    return { partitionKey: d.id, body: { schemaVersion: 1, droneId: d.id, sequence: d.sequence, batteryPct: 500 } };
  }
}
