/** Activity CompleteDelivery (Delivery agent): records that the delivery was made (schedule and package) and lets the drone go. */
import * as df from 'durable-functions';
import { ACTIVITIES } from '../../names';
import * as agents from '../agents';
import type { CompleteDeliveryInput, CompleteDeliveryResult } from '../contracts';
import { agentActivity } from './agent-activity';

export const completeDelivery = agentActivity<CompleteDeliveryInput, CompleteDeliveryResult>(agents.completeDelivery, {
  storeCalls: agents.COMPLETE_DELIVERY_STORE_CALLS,
});

df.app.activity(ACTIVITIES.completeDelivery, { handler: completeDelivery });
