/** Activity ReleaseDrone (compensation of AssignDrone, and the end of a delivery): safe when nothing is reserved. */
import { ACTIVITIES } from '../../names';
import { releaseDrone } from '../agents';
import type { CompensationInput, CompensationResult } from '../contracts';
import { agentActivity } from './agent-activity';

agentActivity<CompensationInput, CompensationResult>(ACTIVITIES.releaseDrone, releaseDrone);
