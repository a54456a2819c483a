/** Timer trigger: the saga supervisor, on the schedule in app setting `SupervisorSchedule`. */
import { app } from '@azure/functions';
import type { InvocationContext, Timer } from '@azure/functions';
import * as df from 'durable-functions';
import { DurableSagas } from '../adapters/durable-sagas';
import { composition } from '../composition';
import { FUNCTIONS } from '../names';
import { superviseOnce, supervisorDeps } from './supervisor';

export async function superviseSagas(timer: Timer, context: InvocationContext): Promise<void> {
  const report = await superviseOnce(
    supervisorDeps(
      composition(),
      new DurableSagas(df.getClient(context)),
      () => new Date(),
      (entry) =>
        entry.action === 'alert' ? context.error(JSON.stringify(entry)) : context.warn(JSON.stringify(entry)),
    ),
  );
  context.info(JSON.stringify({ metric: 'supervisor.run', isPastDue: timer.isPastDue, ...report }));
}

app.timer(FUNCTIONS.superviseSagas, {
  schedule: '%SupervisorSchedule%',
  runOnStartup: false,
  extraInputs: [df.input.durableClient()],
  handler: superviseSagas,
});
