/**
 * Captures the app's registrations at the seam the real Node worker gives `@azure/functions`:
 * the `@azure/functions-core` module. With it installed, every `app.*` and `df.app.*` call
 * reaches `registerFunction(metadata, handler)` here, with the full binding metadata and retry
 * options, so the local runtime and the tests run the same handlers Azure runs, unchanged.
 *
 * It also enforces the Functions host's start-up rules that nothing else here would notice, so a
 * registration Azure refuses fails locally too: function names are case-insensitive and limited
 * to `^[a-zA-Z][a-zA-Z0-9_-]{0,127}$` (azure-functions-dotnet-worker #3359), one HTTP function
 * per method and route template, and nothing under `admin`, which the host keeps for its own API.
 */
import Module, { createRequire } from 'node:module';
import path from 'node:path';

export interface BindingMetadata {
  readonly name?: string;
  readonly type: string;
  readonly direction: 'in' | 'out' | 'inout';
  readonly [key: string]: unknown;
}

export interface RetryMetadata {
  readonly retryStrategy: 'fixedDelay' | 'exponentialBackoff';
  readonly maxRetryCount: number;
  readonly delayInterval?: { seconds?: number; nanos?: number };
  readonly minimumInterval?: { seconds?: number; nanos?: number };
  readonly maximumInterval?: { seconds?: number; nanos?: number };
}

export interface FunctionMetadata {
  readonly name: string;
  readonly bindings: Readonly<Record<string, BindingMetadata>>;
  readonly retryOptions?: RetryMetadata;
}

export type RegisteredHandler = (...args: unknown[]) => unknown;

export interface RegisteredFunction {
  readonly name: string;
  readonly metadata: FunctionMetadata;
  readonly handler: RegisteredHandler;
  /** The one binding whose type ends in `Trigger`. */
  readonly trigger: BindingMetadata & { readonly name: string };
}

export interface FunctionRegistry {
  readonly functions: ReadonlyMap<string, RegisteredFunction>;
  get(name: string): RegisteredFunction;
  byTriggerType(type: string): RegisteredFunction[];
}

const CORE_MODULE = '@azure/functions-core';
const registered = new Map<string, RegisteredFunction>();
let installed = false;

function isTriggerType(type: string): boolean {
  return /trigger$/i.test(type);
}

/** The host's rule for function names (Microsoft.Azure.WebJobs.Script `FunctionNameValidationRegex`). */
export const FUNCTION_NAME_PATTERN = /^[a-zA-Z][a-zA-Z0-9_-]{0,127}$/;

const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE'] as const;

/** The host keeps `admin…` for its own API: a route or route prefix starting so is refused at start-up. */
const startsWithAdmin = (route: string): boolean => /^admin/i.test(route.replace(/^\/+/, ''));

/** A route prefix the host accepts (host.json `extensions.http.routePrefix`); throws otherwise. */
export function checkRoutePrefix(prefix: string): void {
  if (startsWithAdmin(prefix))
    throw new Error(`The route prefix "${prefix}" conflicts with the host's built-in admin routes.`);
}

/**
 * A route template as the router tells templates apart: literal segments ignoring case,
 * parameters by position and constraints only (`deliveries/{id}` and `Deliveries/{deliveryId}`
 * are the same route).
 */
function routeKey(template: string): string {
  return template
    .replace(/^\/+|\/+$/g, '')
    .split('/')
    .map((segment) =>
      segment
        .replace(
          /\{\*?[^}:?=]*(:[^}?=]*)?[^}]*\}/g,
          (_m, constraint: string | undefined) => `{${(constraint ?? '').toLowerCase()}}`,
        )
        .toLowerCase(),
    )
    .join('/');
}

interface HttpRoute {
  readonly key: string;
  readonly template: string;
  readonly methods: readonly string[];
}

function httpRouteOf(name: string, trigger: BindingMetadata): HttpRoute | undefined {
  if (trigger.type.toLowerCase() !== 'httptrigger') return undefined;
  const template = typeof trigger.route === 'string' && trigger.route !== '' ? trigger.route : name;
  const declared = Array.isArray(trigger.methods)
    ? trigger.methods.filter((m): m is string => typeof m === 'string').map((m) => m.toUpperCase())
    : [];
  // No methods declared: the host routes every method to the function.
  return { key: routeKey(template), template, methods: declared.length > 0 ? declared : [...HTTP_METHODS] };
}

/**
 * Why the host would refuse `candidate` beside the functions already registered, or undefined
 * when it would start with it. The rules are the host's, checked in its order: name, uniqueness
 * ignoring case, reserved route, one function per method and route template.
 */
export function registrationProblem(
  existing: Iterable<RegisteredFunction>,
  candidate: FunctionMetadata,
): string | undefined {
  const name = candidate.name;
  if (!FUNCTION_NAME_PATTERN.test(name))
    return `Function name "${name}" is invalid: the host requires ${FUNCTION_NAME_PATTERN.source}.`;
  const trigger = Object.values(candidate.bindings).find((b) => isTriggerType(b.type));
  if (!trigger) return `Function "${name}" has no trigger binding.`;
  const route = httpRouteOf(name, trigger);
  if (route && startsWithAdmin(route.template))
    return `Function "${name}": the route "${route.template}" conflicts with the host's built-in admin routes.`;
  for (const other of existing) {
    if (other.name === name) return `Function "${name}" is registered twice.`;
    if (other.name.toLowerCase() === name.toLowerCase()) {
      return `Functions "${other.name}" and "${name}" differ only by case; the host treats function names case-insensitively and refuses both.`;
    }
    const theirs = route ? httpRouteOf(other.name, other.trigger) : undefined;
    if (route && theirs && theirs.key === route.key) {
      const shared = route.methods.filter((m) => theirs.methods.includes(m));
      if (shared.length > 0)
        return `Functions "${other.name}" and "${name}" both answer ${shared.join(', ')} on route "${route.template}".`;
    }
  }
  return undefined;
}

const coreApi = {
  version: 'fabrikam-local',
  hostVersion: '4.0.0',
  setProgrammingModel(): void {
    // The worker would route invocations through the model; we invoke handlers directly.
  },
  getProgrammingModel(): undefined {
    return undefined;
  },
  registerFunction(metadata: FunctionMetadata, handler: RegisteredHandler): { dispose(): void } {
    const entry = Object.entries(metadata.bindings).find(([, b]) => isTriggerType(b.type));
    if (!entry) throw new Error(`Function "${metadata.name}" has no trigger binding.`);
    const [bindingName, binding] = entry;
    const problem = registrationProblem(registered.values(), metadata);
    if (problem) throw new Error(problem);
    registered.set(metadata.name, {
      name: metadata.name,
      metadata,
      handler,
      trigger: { ...binding, name: bindingName },
    });
    return { dispose: () => registered.delete(metadata.name) };
  },
  registerHook(): { dispose(): void } {
    return { dispose: () => undefined };
  },
  log(level: string, category: string, message: string): void {
    if (level === 'error' || level === 'critical') console.error(`[${category}] ${message}`);
  },
};

/**
 * Makes `require('@azure/functions-core')` resolve to the capturing API. Must run before the
 * first `app.*` registration (the library looks the module up lazily, at registration time).
 */
export function installFunctionsCore(): void {
  if (installed) return;
  const fakePath = path.join(__dirname, '__azure_functions_core__.js');
  const mod = new Module(fakePath);
  mod.filename = fakePath;
  mod.loaded = true;
  mod.exports = coreApi;
  createRequire(__filename).cache[fakePath] = mod;
  const moduleWithResolver = Module as unknown as {
    _resolveFilename: (request: string, ...rest: unknown[]) => string;
  };
  const original = moduleWithResolver._resolveFilename;
  moduleWithResolver._resolveFilename = function resolve(request: string, ...rest: unknown[]): string {
    if (request === CORE_MODULE) return fakePath;
    return original.call(this, request, ...rest);
  };
  installed = true;
}

/** Installs the seam, then loads the app's entry module, and returns what it registered. */
export function loadApp(entryModule: string): FunctionRegistry {
  installFunctionsCore();
  createRequire(__filename)(entryModule);
  return currentRegistry();
}

export function currentRegistry(): FunctionRegistry {
  return {
    functions: registered,
    get(name: string): RegisteredFunction {
      const fn = registered.get(name);
      if (!fn) throw new Error(`No function named "${name}" is registered.`);
      return fn;
    },
    byTriggerType(type: string): RegisteredFunction[] {
      return [...registered.values()].filter((f) => f.trigger.type.toLowerCase() === type.toLowerCase());
    },
  };
}
