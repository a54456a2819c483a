/**
 * The registry the runtime serves from, and what it prints about it: the app's registrations
 * wrapped with the durable client binding and one log line per invocation, the banner's list of
 * routes and functions, and the Durable extension's options from host.json.
 */
import fs from 'node:fs';
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { FunctionRegistry, RegisteredFunction } from '../core/functions-core';
import { bindDurableClient, DURABLE_WEBHOOK_PATH, durableClientInputNames } from '../durable';
import type { DurableClientBindingData } from '../durable';
import { describeError } from './invocation';
import type { StaticSite } from '../http/static-site';

function isInvocationContext(value: unknown): value is InvocationContext {
  return (
    typeof value === 'object' &&
    value !== null &&
    'invocationId' in value &&
    'extraInputs' in value &&
    'options' in value
  );
}

function isHttpRequest(value: unknown): value is HttpRequest {
  return typeof value === 'object' && value !== null && 'method' in value && 'url' in value && 'headers' in value;
}

function statusOf(result: unknown): number | undefined {
  if (typeof result !== 'object' || result === null) return result === undefined ? 204 : undefined;
  const status = (result as HttpResponseInit).status;
  return typeof status === 'number' ? status : 200;
}

/** One line per invocation: what ran, on what, how it ended, how long it took. */
function invocationLine(
  fn: RegisteredFunction,
  input: unknown,
  context: InvocationContext | undefined,
  result: unknown,
  error: unknown,
  ms: number,
): string {
  const took = `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
  const type = fn.trigger.type.toLowerCase();
  if (type === 'httptrigger' && isHttpRequest(input)) {
    const url = new URL(input.url);
    const outcome = error === undefined ? String(statusOf(result) ?? '?') : `failed: ${describeError(error)}`;
    return `${input.method} ${url.pathname}${url.search} → ${outcome} (${fn.name}, ${took})`;
  }
  const meta = context?.triggerMetadata ?? {};
  let what = '';
  if (type === 'eventhubtrigger') {
    const partition = (meta.partitionContext as { partitionId?: unknown } | undefined)?.partitionId;
    const count = Array.isArray(input) ? input.length : 1;
    what = ` [${String(fn.trigger.eventHubName)}/${String(partition)}, ${count} event${count === 1 ? '' : 's'}${context?.retryContext && context.retryContext.retryCount > 0 ? `, retry ${context.retryContext.retryCount}` : ''}]`;
  } else if (type === 'activitytrigger') {
    what = ` [activity of ${String(meta.instanceId)}]`;
  } else if (type === 'timertrigger') {
    what = ' [timer]';
  }
  return `${fn.name}${what} ${error === undefined ? 'ok' : `failed: ${describeError(error)}`} (${took})`;
}

/**
 * The registry the runtime serves from: every function but orchestrators (whose handler the
 * engine replays many times per instance) gets its durable client binding bound and one log line
 * per invocation. The app's handlers run unchanged inside.
 */
export function wrapRegistry(
  registry: FunctionRegistry,
  binding: () => DurableClientBindingData,
  log: (line: string, failed: boolean) => void,
): FunctionRegistry {
  const wrapped = new Map<string, RegisteredFunction>();
  for (const fn of registry.functions.values()) {
    if (fn.trigger.type === 'orchestrationTrigger') {
      wrapped.set(fn.name, fn);
      continue;
    }
    const needsClient = durableClientInputNames(fn).length > 0;
    const handler = async (...args: unknown[]): Promise<unknown> => {
      const [input, context] = args;
      const ctx = isInvocationContext(context) ? context : undefined;
      if (needsClient && ctx) bindDurableClient(ctx, binding());
      const started = performance.now();
      try {
        const result = await fn.handler(...args);
        log(invocationLine(fn, input, ctx, result, undefined, performance.now() - started), false);
        return result;
      } catch (e) {
        log(invocationLine(fn, input, ctx, undefined, e, performance.now() - started), true);
        throw e;
      }
    };
    wrapped.set(fn.name, { ...fn, handler });
  }
  return {
    functions: wrapped,
    get(name) {
      const fn = wrapped.get(name);
      if (!fn) throw new Error(`No function named "${name}" is registered.`);
      return fn;
    },
    byTriggerType(type) {
      return [...wrapped.values()].filter((f) => f.trigger.type.toLowerCase() === type.toLowerCase());
    },
  };
}

export function durableHostOptions(hostJsonPath: string): { maxConcurrentActivities: number; hubName: string } {
  const raw = JSON.parse(fs.readFileSync(hostJsonPath, 'utf8')) as {
    extensions?: { durableTask?: { hubName?: unknown; maxConcurrentActivityFunctions?: unknown } };
  };
  const dt = raw.extensions?.durableTask ?? {};
  const max =
    typeof dt.maxConcurrentActivityFunctions === 'number' && dt.maxConcurrentActivityFunctions > 0
      ? dt.maxConcurrentActivityFunctions
      : 10;
  return { maxConcurrentActivities: max, hubName: typeof dt.hubName === 'string' ? dt.hubName : 'LocalTaskHub' };
}

/** The banner's list: HTTP routes, then every other function by trigger, then the runtime's own endpoints. */
export function describeRuntime(
  functions: readonly RegisteredFunction[],
  baseUrl: string,
  routePrefix: string,
  staticSites: readonly StaticSite[] = [],
): string[] {
  const lines: string[] = [];
  const prefix = routePrefix === '' ? '' : `/${routePrefix}`;
  for (const fn of functions.filter((f) => f.trigger.type.toLowerCase() === 'httptrigger')) {
    const methods = Array.isArray(fn.trigger.methods) ? (fn.trigger.methods as unknown[]).map(String).join(',') : 'ANY';
    const route = typeof fn.trigger.route === 'string' && fn.trigger.route !== '' ? fn.trigger.route : fn.name;
    lines.push(`  ${fn.name}: [${methods}] ${baseUrl}${prefix}/${route}`);
  }
  for (const fn of functions.filter((f) => f.trigger.type.toLowerCase() !== 'httptrigger')) {
    const t = fn.trigger;
    const detail =
      t.type === 'eventHubTrigger'
        ? `${String(t.eventHubName)} (${String(t.consumerGroup)})`
        : t.type === 'timerTrigger'
          ? String(t.schedule)
          : '';
    lines.push(`  ${fn.name}: ${t.type}${detail ? ` ${detail}` : ''}`);
  }
  lines.push(`  publish: [POST] ${baseUrl}/local/eventhubs/{eventHubName}`);
  lines.push(`  status: [GET] ${baseUrl}/local/status`);
  lines.push(`  durable: ${baseUrl}${DURABLE_WEBHOOK_PATH}instances`);
  for (const site of staticSites) lines.push(`  site: ${baseUrl}${site.prefix}/`);
  return lines;
}
