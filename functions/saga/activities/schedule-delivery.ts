/** Activity ScheduleDelivery (Delivery agent): ETA from distance and cruise speed; refuses an unreachable deadline. */
import * as df from 'durable-functions';
import { ACTIVITIES } from '../../names';
import * as agents from '../agents';
import type { ScheduleDeliveryInput, ScheduleDeliveryResult } from '../contracts';
import { agentActivity } from './agent-activity';

export const scheduleDelivery = agentActivity<ScheduleDeliveryInput, ScheduleDeliveryResult>(agents.scheduleDelivery);

df.app.activity(ACTIVITIES.scheduleDelivery, { handler: scheduleDelivery });
