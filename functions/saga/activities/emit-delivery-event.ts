/**
 * Activity EmitDeliveryEvent: publishes one delivery event to `delivery-events` with the
 * delivery id as partition key. The saga numbers the event and derives its id, so a retried
 * activity re-sends the same event, which the projector recognises. The delivery's trace context
 * goes along as the Event Hubs application property `traceparent` (the envelope stays as the
 * contract has it): the activity's own span, so the projector's work hangs under the send.
 */
import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import type { DeliveryEvent } from '../../../domain/delivery/events';
import { composition } from '../../composition';
import { ACTIVITIES, HUBS } from '../../names';
import { tracedActivity } from '../../tracing/activity-trace';
import { traceparentOf } from '../../tracing/spans';

export async function emitDeliveryEvent(input: unknown, context: InvocationContext): Promise<void> {
  const c = composition();
  return tracedActivity<DeliveryEvent, void>(context.functionName, input, async (event) => {
    const traceparent = traceparentOf();
    await c
      .publisher()
      .publish(HUBS.deliveryEvents, [
        { body: event, partitionKey: event.deliveryId, ...(traceparent ? { properties: { traceparent } } : {}) },
      ]);
    context.info(
      JSON.stringify({
        event: 'delivery.event',
        deliveryId: event.deliveryId,
        type: event.type,
        sequence: event.sequence,
        eventId: event.eventId,
      }),
    );
  });
}

df.app.activity(ACTIVITIES.emitDeliveryEvent, { handler: emitDeliveryEvent });
