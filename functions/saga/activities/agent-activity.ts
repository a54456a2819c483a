/**
 * Registers an agent activity: the handler gets the composition's agent ports and runs inside
 * the instance's agent bulkhead, so one host instance never floods the stores.
 */
import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { composition } from '../../composition';
import type { AgentDeps } from '../agents';

export function agentActivity<I, O>(name: string, run: (deps: AgentDeps, input: I, context: InvocationContext) => Promise<O>): void {
  df.app.activity(name, {
    handler: async (input: unknown, context: InvocationContext): Promise<O> => {
      const c = composition();
      return c.agentBulkhead().run(() => run(c.agents(), input as I, context));
    },
  });
}
