/** Activity CancelPackage (compensation of CreatePackage): safe when there is no package. */
import * as df from 'durable-functions';
import { ACTIVITIES } from '../../names';
import * as agents from '../agents';
import type { CompensationInput, CompensationResult } from '../contracts';
import { agentActivity } from './agent-activity';

export const cancelPackage = agentActivity<CompensationInput, CompensationResult>(agents.cancelPackage);

df.app.activity(ACTIVITIES.cancelPackage, { handler: cancelPackage });
