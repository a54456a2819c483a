/** Activity CompleteDelivery (Delivery agent): records that the delivery was made (schedule and package) and lets the drone go. */
import { ACTIVITIES } from '../../names';
import { completeDelivery } from '../agents';
import type { CompleteDeliveryInput, CompleteDeliveryResult } from '../contracts';
import { agentActivity } from './agent-activity';

agentActivity<CompleteDeliveryInput, CompleteDeliveryResult>(ACTIVITIES.completeDelivery, completeDelivery);
