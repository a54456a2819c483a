/** Activity ScheduleDelivery (Delivery agent): ETA from distance and cruise speed; refuses an unreachable deadline. */
import { ACTIVITIES } from '../../names';
import { scheduleDelivery } from '../agents';
import type { ScheduleDeliveryInput, ScheduleDeliveryResult } from '../contracts';
import { agentActivity } from './agent-activity';

agentActivity<ScheduleDeliveryInput, ScheduleDeliveryResult>(ACTIVITIES.scheduleDelivery, scheduleDelivery);
