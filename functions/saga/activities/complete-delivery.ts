/** Activity CompleteDelivery (Delivery agent): records that the delivery was made (schedule and package). */
import { ACTIVITIES } from '../../names';
import { completeDelivery } from '../agents';
import { agentActivity } from './register';

agentActivity<{ deliveryId: string; at: string }, void>(ACTIVITIES.completeDelivery, completeDelivery);
