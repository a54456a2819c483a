/** Timer trigger: the saga supervisor, on the schedule in app setting `SupervisorSchedule`. */
import { app } from '@azure/functions';
import type { InvocationContext, Timer } from '@azure/functions';
import * as df from 'durable-functions';
import { DurableSagas } from '../adapters/durable-sagas';
import { composition } from '../composition';
import { FUNCTIONS } from '../names';
import { superviseOnce } from './supervisor';

export async function superviseSagas(timer: Timer, context: InvocationContext): Promise<void> {
  const c = composition();
  const report = await superviseOnce({
    sagas: new DurableSagas(df.getClient(context)),
    intakes: c.intakes(),
    now: () => new Date(),
    policy: { graceMs: c.config.saga.supervisorGraceMs, escalateAfterMs: 15 * 60_000, pendingTooLongMs: 15 * 60_000 },
    retry: { attempts: c.config.saga.stepAttempts, firstRetryMs: c.config.saga.stepFirstRetryMs },
    lookbackMs: 30 * 86_400_000,
    log: (entry) => (entry.action === 'alert' ? context.error(JSON.stringify(entry)) : context.warn(JSON.stringify(entry))),
  });
  context.info(JSON.stringify({ metric: 'supervisor.run', isPastDue: timer.isPastDue, ...report }));
}

app.timer(FUNCTIONS.superviseSagas, {
  schedule: '%SupervisorSchedule%',
  runOnStartup: false,
  extraInputs: [df.input.durableClient()],
  handler: superviseSagas,
});
