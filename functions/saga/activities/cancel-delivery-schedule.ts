/**
 * Activity CancelDeliverySchedule (compensation of ScheduleDelivery): marks the schedule cancelled,
 * or leaves a mark if there was none. Not "CancelDelivery": the HTTP function `cancelDelivery`
 * has that name ignoring case, and the host refuses two such functions.
 */
import * as df from 'durable-functions';
import { ACTIVITIES } from '../../names';
import * as agents from '../agents';
import type { CompensationInput, CompensationResult } from '../contracts';
import { agentActivity } from './agent-activity';

export const cancelDeliverySchedule = agentActivity<CompensationInput, CompensationResult>(
  agents.cancelDeliverySchedule,
);

df.app.activity(ACTIVITIES.cancelDeliverySchedule, { handler: cancelDeliverySchedule });
