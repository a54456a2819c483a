/** Activity CancelPackage (compensation of CreatePackage): safe when there is no package. */
import { ACTIVITIES } from '../../names';
import { cancelPackage } from '../agents';
import type { CompensationInput, CompensationResult } from '../contracts';
import { agentActivity } from './agent-activity';

agentActivity<CompensationInput, CompensationResult>(ACTIVITIES.cancelPackage, cancelPackage);
