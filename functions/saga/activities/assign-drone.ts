/** Activity AssignDrone (Drone scheduler agent): reserves the nearest available drone exclusively; a retry returns the same drone. */
import * as df from 'durable-functions';
import { ACTIVITIES } from '../../names';
import * as agents from '../agents';
import type { AssignDroneInput, AssignDroneResult } from '../contracts';
import { agentActivity } from './agent-activity';

export const assignDrone = agentActivity<AssignDroneInput, AssignDroneResult>(agents.assignDrone);

df.app.activity(ACTIVITIES.assignDrone, { handler: assignDrone });
