/**
 * What every local trigger shares when it calls a registered handler: an InvocationContext built
 * the way the worker builds it (binding options, trigger metadata, retry context, log routing),
 * the logger the runtime prints through, and the hook that runs after a successful invocation
 * (where output bindings such as `eventHub` are carried out).
 */
import { randomUUID } from 'node:crypto';
import { InvocationContext } from '@azure/functions';
import type {
  EffectiveFunctionOptions,
  FunctionInput,
  FunctionOutput,
  FunctionTrigger,
  LogLevel,
  RetryContext,
} from '@azure/functions';
import { format } from 'node:util';
import type { RegisteredFunction, RetryMetadata } from '../core/functions-core';
import type { Clock } from '../clock';
import { sleep } from '../clock';

/** The worker's key for a function's return-value binding. */
export const RETURN_BINDING = '$return';

export type LocalLogger = (level: LogLevel, category: string, message: string) => void;

export const consoleLogger: LocalLogger = (level, category, message) => {
  const line = `[${category}] ${message}`;
  if (level === 'error' || level === 'critical') console.error(line);
  else if (level === 'warning') console.warn(line);
  else if (level !== 'trace' && level !== 'debug' && level !== 'none') console.log(line);
};

export const silentLogger: LocalLogger = () => undefined;

/**
 * Runs after a handler returned (not after it threw), with its context and return value. A hook
 * that throws fails the invocation, as a failing output binding does in the host.
 */
export type AfterInvocation = (fn: RegisteredFunction, context: InvocationContext, result: unknown) => Promise<void>;

/** The binding view `context.options` gives handlers, from the captured metadata. */
export function effectiveOptions(fn: RegisteredFunction): EffectiveFunctionOptions {
  const extraInputs: FunctionInput[] = [];
  const extraOutputs: FunctionOutput[] = [];
  let ret: FunctionOutput | undefined;
  for (const [name, binding] of Object.entries(fn.metadata.bindings)) {
    if (name === fn.trigger.name) continue;
    const withName = { ...binding, name } as FunctionInput & FunctionOutput;
    if (name === RETURN_BINDING) ret = withName;
    else if (binding.direction === 'in') extraInputs.push(withName);
    else if (binding.direction === 'out') extraOutputs.push(withName);
  }
  return { trigger: { ...fn.trigger } as FunctionTrigger, ...(ret ? { return: ret } : {}), extraInputs, extraOutputs };
}

export interface InvocationInit {
  readonly triggerMetadata?: Record<string, unknown>;
  readonly retryContext?: RetryContext;
  readonly logger: LocalLogger;
  readonly invocationId?: string;
}

export function createInvocationContext(fn: RegisteredFunction, init: InvocationInit): InvocationContext {
  const invocationId = init.invocationId ?? randomUUID();
  return new InvocationContext({
    functionName: fn.name,
    invocationId,
    ...(init.triggerMetadata ? { triggerMetadata: init.triggerMetadata } : {}),
    ...(init.retryContext ? { retryContext: init.retryContext } : {}),
    options: effectiveOptions(fn),
    logHandler: (level, ...args) => init.logger(level, `Function.${fn.name}`, format(...args)),
  });
}

/** The host reports failures by message only; the stack stays in the local log. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function durationMs(d: { seconds?: number; nanos?: number } | undefined): number {
  return d ? (d.seconds ?? 0) * 1000 + (d.nanos ?? 0) / 1e6 : 0;
}

/**
 * Delay before retry number `retry` (1-based) under a function's retry policy. Exponential
 * backoff doubles from the minimum up to the maximum; the host adds a little jitter, which we
 * leave out so runs are reproducible. (The library rounds intervals to whole seconds.)
 */
export function retryDelayMs(policy: RetryMetadata, retry: number): number {
  if (policy.retryStrategy === 'fixedDelay') return durationMs(policy.delayInterval);
  const min = durationMs(policy.minimumInterval);
  const max = durationMs(policy.maximumInterval);
  return Math.min(max > 0 ? max : Number.MAX_SAFE_INTEGER, min * 2 ** (retry - 1));
}

export type RetryOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly error: unknown; readonly retries: number; readonly aborted: boolean };

/**
 * Runs `attempt` under the function's retry policy (metadata.retryOptions, maxRetryCount -1 =
 * forever), waiting on `clock` between attempts. Without a policy a failure is final at once.
 */
export async function runWithRetries(
  policy: RetryMetadata | undefined,
  options: {
    readonly clock: Clock;
    readonly signal?: AbortSignal;
    onRetry?(retry: number, delayMs: number, error: unknown): void;
  },
  attempt: (retryContext: RetryContext | undefined) => Promise<void>,
): Promise<RetryOutcome> {
  for (let retry = 0; ; retry++) {
    try {
      await attempt(policy ? { retryCount: retry, maxRetryCount: policy.maxRetryCount } : undefined);
      return { ok: true };
    } catch (error) {
      const canRetry = policy !== undefined && (policy.maxRetryCount === -1 || retry < policy.maxRetryCount);
      if (!canRetry) return { ok: false, error, retries: retry, aborted: false };
      if (options.signal?.aborted) return { ok: false, error, retries: retry, aborted: true };
      const delay = retryDelayMs(policy, retry + 1);
      options.onRetry?.(retry + 1, delay, error);
      if (!(await sleep(options.clock, delay, options.signal)))
        return { ok: false, error, retries: retry, aborted: true };
    }
  }
}
