/** Activity CreatePackage (Package agent): one package per delivery, idempotent. */
import { ACTIVITIES } from '../../names';
import { createPackage } from '../agents';
import type { CreatePackageInput, CreatePackageResult } from '../contracts';
import { agentActivity } from './agent-activity';

agentActivity<CreatePackageInput, CreatePackageResult>(ACTIVITIES.createPackage, createPackage);
