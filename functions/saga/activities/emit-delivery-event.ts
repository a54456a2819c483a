/**
 * Activity EmitDeliveryEvent: publishes one delivery event to `delivery-events` with the
 * delivery id as partition key. The saga numbers the event and derives its id, so a retried
 * activity re-sends the same event, which the projector recognises.
 */
import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import type { DeliveryEvent } from '../../../domain/delivery/events';
import { composition } from '../../composition';
import { ACTIVITIES, HUBS } from '../../names';

export async function emitDeliveryEvent(input: unknown, context: InvocationContext): Promise<void> {
  const event = input as DeliveryEvent;
  await composition().publisher().publish(HUBS.deliveryEvents, [{ body: event, partitionKey: event.deliveryId }]);
  context.info(JSON.stringify({ event: 'delivery.event', deliveryId: event.deliveryId, type: event.type, sequence: event.sequence, eventId: event.eventId }));
}

df.app.activity(ACTIVITIES.emitDeliveryEvent, { handler: emitDeliveryEvent });
