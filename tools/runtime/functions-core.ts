/**
 * Captures the app's registrations at the seam the real Node worker gives `@azure/functions`:
 * the `@azure/functions-core` module. With it installed, every `app.*` and `df.app.*` call
 * reaches `registerFunction(metadata, handler)` here, with the full binding metadata and retry
 * options, so the local runtime and the tests run the same handlers Azure runs, unchanged.
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
    if (registered.has(metadata.name)) {
      throw new Error(`Function "${metadata.name}" is registered twice.`);
    }
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
