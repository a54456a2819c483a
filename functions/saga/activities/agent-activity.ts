/**
 * Makes an agent use case an activity handler: the handler gets the composition's agent ports
 * and runs inside the instance's agent bulkhead, so one host instance never floods the stores.
 */
import type { InvocationContext } from '@azure/functions';
import { composition } from '../../composition';
import type { AgentDeps } from '../agents';

export function agentActivity<I, O>(run: (deps: AgentDeps, input: I, context: InvocationContext) => Promise<O>): (input: unknown, context: InvocationContext) => Promise<O> {
  return async (input, context) => {
    const c = composition();
    return c.agentBulkhead().run(() => run(c.agents(), input as I, context));
  };
}
