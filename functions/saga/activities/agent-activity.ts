/**
 * Makes an agent use case an activity handler: the handler gets the composition's agent ports
 * and runs inside the instance's agent bulkhead, so one host instance never floods the stores,
 * and inside the activity's span under the delivery's trace (tracing/activity-trace.ts), named
 * after the function the host invoked. `storeCalls`: how many store requests the use case makes
 * at once (1 unless it says otherwise); it takes as many of the bulkhead's permits.
 */
import type { InvocationContext } from '@azure/functions';
import { composition } from '../../composition';
import type { AgentDeps } from '../agents';
import { tracedActivity } from '../../tracing/activity-trace';

export function agentActivity<I, O>(
  run: (deps: AgentDeps, input: I, context: InvocationContext) => Promise<O>,
  options: { readonly storeCalls?: number } = {},
): (input: unknown, context: InvocationContext) => Promise<O> {
  return async (input, context) => {
    const c = composition();
    return tracedActivity<I, O>(context.functionName, input, (own) =>
      c.agentBulkhead().run(() => run(c.agents(), own, context), options.storeCalls),
    );
  };
}
