/** Activity CloseIntake: the saga is over, so it no longer counts against the in-flight bound. */
import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { composition } from '../../composition';
import { ACTIVITIES } from '../../names';
import type { CloseIntakeInput } from '../contracts';

df.app.activity(ACTIVITIES.closeIntake, {
  handler: async (input: unknown, _context: InvocationContext): Promise<void> => {
    const { deliveryId, outcome, failureCode } = input as CloseIntakeInput;
    await composition().intakes().close(deliveryId, outcome, failureCode);
  },
});
