/** Activity ReleaseDrone (compensation of AssignDrone, and the end of a delivery): safe when nothing is reserved. */
import * as df from 'durable-functions';
import { ACTIVITIES } from '../../names';
import * as agents from '../agents';
import type { CompensationInput, CompensationResult } from '../contracts';
import { agentActivity } from './agent-activity';

export const releaseDrone = agentActivity<CompensationInput, CompensationResult>(agents.releaseDrone);

df.app.activity(ACTIVITIES.releaseDrone, { handler: releaseDrone });
