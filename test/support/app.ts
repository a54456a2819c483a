/**
 * Loads the real function app through the `@azure/functions-core` seam and builds host-shaped
 * invocations: handlers are called exactly as the worker calls them.
 */
import { HttpRequest, InvocationContext } from '@azure/functions';
import type { HttpResponse, HttpResponseInit } from '@azure/functions';
import { createInvocationContext, silentLogger } from '../../packages/functions-local/src/host/invocation';
import './install-core';
import '../../functions/index';
import { currentRegistry } from '../../packages/functions-local/src/core/functions-core';
import type { FunctionRegistry } from '../../packages/functions-local/src/core/functions-core';

let registry: FunctionRegistry | undefined;

/** Registers every trigger of functions/index.ts (once per test file) and returns the registry. */
export async function loadFunctionApp(): Promise<FunctionRegistry> {
  registry ??= currentRegistry();
  return registry;
}

export function invocationContext(
  functionName: string,
  triggerMetadata: Record<string, unknown> = {},
): InvocationContext {
  return new InvocationContext({
    functionName,
    invocationId: `test-${Math.random().toString(36).slice(2)}`,
    triggerMetadata,
    logHandler: () => undefined,
  });
}

export interface CallHttpOptions {
  readonly method?: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly params?: Record<string, string>;
  /** Runs on the host-shaped context before the call (e.g. to bind the durable client input). */
  readonly prepare?: (context: InvocationContext) => void;
}

export interface HttpResult {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  json<T = unknown>(): T;
}

/** Calls a registered HTTP function's handler with a host-shaped HttpRequest. */
export async function callHttp(functionName: string, opts: CallHttpOptions): Promise<HttpResult> {
  const reg = await loadFunctionApp();
  const fn = reg.get(functionName);
  const request = new HttpRequest({
    method: opts.method ?? 'GET',
    url: `http://127.0.0.1:7071/api/${opts.path}`,
    headers: opts.headers ?? {},
    params: opts.params ?? {},
    ...(opts.body !== undefined ? { body: { string: opts.body } } : {}),
  });
  const context = createInvocationContext(fn, { logger: silentLogger });
  opts.prepare?.(context);
  const raw = (await fn.handler(request, context)) as HttpResponseInit | HttpResponse | undefined;
  return toResult(raw);
}

async function toResult(raw: HttpResponseInit | HttpResponse | undefined): Promise<HttpResult> {
  const init = raw ?? {};
  const headers: Record<string, string> = {};
  const h = (init as { headers?: unknown }).headers;
  if (h instanceof Headers) h.forEach((v, k) => (headers[k.toLowerCase()] = v));
  else if (h && typeof h === 'object')
    for (const [k, v] of Object.entries(h as Record<string, string>)) headers[k.toLowerCase()] = String(v);
  let body = '';
  const b = (init as { body?: unknown }).body;
  const jsonBody = (init as { jsonBody?: unknown }).jsonBody;
  if (typeof b === 'string') body = b;
  else if (jsonBody !== undefined) body = JSON.stringify(jsonBody);
  else if (b && typeof (raw as HttpResponse).text === 'function') body = await (raw as HttpResponse).text();
  const status = (init as { status?: number }).status ?? 200;
  return { status, headers, body, json: <T>() => JSON.parse(body) as T };
}
