/** Activity CreatePackage (Package agent): one package per delivery, idempotent. */
import * as df from 'durable-functions';
import { ACTIVITIES } from '../../names';
import * as agents from '../agents';
import type { CreatePackageInput, CreatePackageResult } from '../contracts';
import { agentActivity } from './agent-activity';

export const createPackage = agentActivity<CreatePackageInput, CreatePackageResult>(agents.createPackage);

df.app.activity(ACTIVITIES.createPackage, { handler: createPackage });
