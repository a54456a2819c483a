/** Activity CloseIntake: the saga is over, so it no longer counts against the in-flight bound. */
import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { composition } from '../../composition';
import { ACTIVITIES } from '../../names';
import type { CloseIntakeInput } from '../contracts';
import { tracedActivity } from '../../tracing/activity-trace';

export async function closeIntake(input: unknown, context: InvocationContext): Promise<void> {
  const c = composition();
  return tracedActivity<CloseIntakeInput, void>(context.functionName, input, ({ deliveryId, outcome, failureCode }) =>
    c.intakes().close(deliveryId, outcome, failureCode),
  );
}

df.app.activity(ACTIVITIES.closeIntake, { handler: closeIntake });
