/**
 * The compiled function app, loaded once per benchmark process. Registrations go through the
 * functions-core seam into one process-wide registry, so a second load would register every
 * function twice; every benchmark that needs the app (the local runtime, the saga engine) takes
 * the registry from here.
 */
import path from 'node:path';
import { loadApp, readHostOptions } from '@fabrikam/functions-local';
import type { FunctionRegistry } from '@fabrikam/functions-local';
import { repoRoot } from '../local/fabrikam';

/** The app's entry module beside this compiled file: dist-tools/functions/index.js (the tools build holds the whole app). */
export const BENCH_APP_ENTRY = path.join(__dirname, '..', '..', 'functions', 'index.js');

let loaded: FunctionRegistry | undefined;

export function benchApp(): FunctionRegistry {
  loaded ??= loadApp(BENCH_APP_ENTRY);
  return loaded;
}

/** host.json's maxEventBatchSize: the most events a trigger invocation is handed. */
export function hostBatchSize(root = repoRoot()): number {
  return readHostOptions(path.join(root, 'host.json')).eventHubs.maxEventBatchSize;
}
