/** Activity AssignDrone (Drone scheduler agent): reserves the nearest available drone exclusively; a retry returns the same drone. */
import { ACTIVITIES } from '../../names';
import { assignDrone } from '../agents';
import type { AssignDroneInput, AssignDroneResult } from '../contracts';
import { agentActivity } from './agent-activity';

agentActivity<AssignDroneInput, AssignDroneResult>(ACTIVITIES.assignDrone, assignDrone);
