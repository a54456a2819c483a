/**
 * A milestone counts only from the drone assigned to its delivery (the contract's telemetry
 * section). The saga checks the drone it knows of, but that is not enough on its own: an external
 * event raised while the saga waits for nothing of that name is kept by Durable Functions and
 * handed to the first wait for it, so a report raised before the saga knew its drone was judged
 * after the assignment, against a drone that was not the delivery's when it reported (engine
 * simulation seed 1355899280: a free drone's "Delivered" for a delivery still waiting for a drone,
 * which that drone then got, ended the delivery Delivered). So ingestion raises a milestone only
 * while the reporting drone is reserved for the delivery; the reservation exists before the
 * saga hears of its drone, so a report from the drone of an assignment not yet played still counts.
 */
import type { DroneReservations } from '../../domain/delivery/ports';
import type { Milestone } from '../../domain/telemetry/milestones';
import type { MilestoneSink } from '../../domain/telemetry/ports';

export function fromAssignedDrone(
  sink: MilestoneSink,
  reservations: Pick<DroneReservations, 'findByDrone'>,
  log: (entry: Record<string, unknown>) => void = () => undefined,
): MilestoneSink {
  return {
    raise: async (m: Milestone) => {
      const held = await reservations.findByDrone(m.droneId);
      if (held?.deliveryId === m.deliveryId) return sink.raise(m);
      // Not raised: said as `false`, so ingestion neither logs nor counts it as a milestone.
      log({
        event: 'telemetry.milestone.wrongDrone',
        deliveryId: m.deliveryId,
        milestone: m.name,
        droneId: m.droneId,
        reservedFor: held?.deliveryId ?? null,
      });
      return false;
    },
  };
}
