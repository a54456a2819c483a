/**
 * MilestoneSink on Durable Functions: raises the milestone as an external event on the
 * delivery's orchestration (instance id = delivery id). A delivery with no saga, or one that
 * already finished, has nobody to tell: that is not an error for ingestion.
 */
import type { DurableClient } from 'durable-functions';
import type { Milestone } from '../../domain/telemetry/milestones';
import type { MilestoneSink } from '../../domain/telemetry/ports';

export class DurableMilestoneSink implements MilestoneSink {
  constructor(
    private readonly client: () => DurableClient,
    private readonly log: (message: string) => void = () => undefined,
  ) {}

  async raise(m: Milestone): Promise<void> {
    try {
      await this.client().raiseEvent(m.deliveryId, m.name, {
        droneId: m.droneId,
        sequence: m.sequence,
        occurredAt: m.occurredAt,
        position: m.position,
      });
    } catch (e) {
      if (/No instance with ID/i.test((e as Error).message ?? '')) {
        this.log(`milestone ${m.name} for delivery ${m.deliveryId} has no running saga; ignored`);
        return;
      }
      throw e;
    }
  }
}
