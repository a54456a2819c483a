/** Activity CompleteDelivery (Delivery agent): records that the delivery was made. */
import { ACTIVITIES } from '../../names';
import { completeDelivery } from '../agents';
import { agentActivity } from './register';

agentActivity<{ deliveryId: string }, void>(ACTIVITIES.completeDelivery, completeDelivery);
