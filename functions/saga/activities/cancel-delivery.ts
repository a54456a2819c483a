/** Activity CancelDelivery (compensation of ScheduleDelivery): marks the schedule cancelled, or leaves a mark if there was none. */
import { ACTIVITIES } from '../../names';
import { cancelDelivery } from '../agents';
import type { CompensationInput, CompensationResult } from '../contracts';
import { agentActivity } from './register';

agentActivity<CompensationInput, CompensationResult>(ACTIVITIES.cancelDelivery, cancelDelivery);
