/**
 * Registers an agent activity: the handler gets the composition's agent ports and runs inside
 * the instance's agent bulkhead, so one host instance never floods the stores, inside the
 * activity's span under the delivery's trace (tracing/activity-trace.ts).
 */
import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { composition } from '../../composition';
import type { AgentDeps } from '../agents';
import { tracedActivity } from '../../tracing/activity-trace';

export function agentActivity<I, O>(name: string, run: (deps: AgentDeps, input: I, context: InvocationContext) => Promise<O>): void {
  df.app.activity(name, {
    handler: async (input: unknown, context: InvocationContext): Promise<O> => {
      const c = composition();
      return tracedActivity<I, O>(name, input, (own) => c.agentBulkhead().run(() => run(c.agents(), own, context)));
    },
  });
}
