/** Activity CloseIntake: the saga is over, so it no longer counts against the in-flight bound. */
import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { composition } from '../../composition';
import { ACTIVITIES } from '../../names';
import type { CloseIntakeInput } from '../contracts';

export async function closeIntake(input: unknown, _context: InvocationContext): Promise<void> {
  const { deliveryId, outcome, failureCode } = input as CloseIntakeInput;
  await composition().intakes().close(deliveryId, outcome, failureCode);
}

df.app.activity(ACTIVITIES.closeIntake, { handler: closeIntake });
