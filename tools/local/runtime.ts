/**
 * The local runtime: the whole function app on one machine, with no Azure, Docker or Core Tools.
 * `startLocalRuntime` starts the stand-ins under a data directory (Azurite for blobs, the Cosmos
 * DB stand-in behind its write-ahead log, the Data Lake stand-in), provisions what Bicep creates
 * in Azure (functions/resources.ts), sets the app's settings, loads the compiled app unchanged
 * through the functions-core seam, and runs every registration the way the Functions host would:
 * HTTP triggers on one HTTP host, Event Hub triggers on the in-process hubs with host.json
 * batching and checkpoints, timers, orchestrations and activities on the durable engine (with the
 * Durable extension's HTTP API on the same host), `eventHub` outputs, and Capture to the lake.
 *
 * Everything that matters survives `kill -9`: hub logs and checkpoints, timer status, durable
 * instances, Cosmos state (WAL), blobs (Azurite on disk) and the lake (files). The CLI is start.ts;
 * tests and benchmarks call `startLocalRuntime` and speak HTTP to `baseUrl`.
 *
 * Over 450 lines for now: start-up and shutdown of every stand-in live here until issue #13
 * turns them into a list of named services in their own package.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { DataLakeServiceClient, StorageSharedKeyCredential } from '@azure/storage-file-datalake';
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { Caller } from '../../domain/shared/caller';
import { cosmosClientFrom } from '../../functions/composition';
import { captureNamespaceOf, SETTINGS } from '../../functions/config';
import { EVENT_HUBS } from '../../functions/resources';
import { currentRegistry, installFunctionsCore, loadApp } from '../runtime/functions-core';
import type { FunctionRegistry, RegisteredFunction } from '../runtime/functions-core';
import {
  bindDurableClient,
  buildDurableClientBindingData,
  createDurableHttpHandler,
  DURABLE_WEBHOOK_PATH,
  DurableEngine,
  durableClientInputNames,
  FileInstanceStore,
} from '../runtime/durable';
import type { DurableClientBindingData, DurableHttpHandler } from '../runtime/durable';
import { CaptureWriter } from './capture-writer';
import type { CaptureInput, CapturedFile } from './capture-writer';
import type { CapturePropertyValue } from '../../functions/adapters/capture-format';
import { startDurableCosmos } from './cosmos-wal';
import type { DurableCosmosHandle } from './cosmos-wal';
import { EventHubNamespace, eventHubOutputHook, eventHubsPublishRoute, startEventHubTriggers } from './eventhubs';
import type { EventHub, EventHubTriggerDispatcher } from './eventhubs';
import { readHostOptions } from './host-options';
import { HttpHost } from './http-host';
import type { StaticSite } from './static-site';
import type { LocalRoute } from './http-host';
import { consoleLogger, createInvocationContext, describeError } from './invocation';
import type { AfterInvocation, LocalLogger } from './invocation';
import { startLakeServer } from './lake-server';
import type { LakeServerHandle } from './lake-server';
import { provisionBlobs, provisionCosmos } from './provision';
import { resolveSettingRefs } from './settings';
import { AZURITE_ACCOUNT, AZURITE_KEY, freePort } from './standins';
import { isAlive, startAzuriteProcess } from './azurite-process';
import type { AzuriteHandle } from './standins';
import { TimerScheduler } from './timers';

/** The operations console (console/, built by `npm run build:console` into console/dist). */
export const CONSOLE_PATH = '/console';

export const DEFAULT_DATA_DIR = '.data';
export const DEFAULT_CAPTURE_WINDOW_MS = 10_000;
/** Marks a directory as a runtime data directory, so `fresh` never wipes anything else. */
const MARKER = '.fabrikam-local';
const LOCK = 'runtime.lock';
export const RUNTIME_INFO_FILE = 'runtime.json';

/**
 * Local values for settings the app needs and has no default for, or whose Azure default is a
 * poor fit on one machine. A value the user set (environment or local.settings.json) wins.
 */
export const LOCAL_DEFAULTS: Readonly<Record<string, string>> = {
  FUNCTIONS_WORKER_RUNTIME: 'node',
  CosmosDatabaseName: 'drone-delivery',
  ArchiveLakeFileSystem: 'capture',
  DurableTaskHubName: 'fabrikamlocal',
  // Every minute rather than every five: stuck sagas show up while someone is watching.
  SupervisorSchedule: '0 */1 * * * *',
  // 5 s rather than 30 s between looks for a free drone: a local fleet frees up in seconds.
  AssignmentRetrySeconds: '5',
  ...Object.fromEntries(EVENT_HUBS.flatMap((h) => h.consumerGroups.map((g) => [g.setting, g.name]))),
};

/**
 * Settings that name Azure resources by identity. Locally they would point the app at Azure (or at
 * a placeholder from local.settings.json), so they are removed and the emulator settings are set.
 */
const AZURE_ONLY_SETTINGS = ['DeadLetterStorage__blobServiceUri', 'EventHubConnection__fullyQualifiedNamespace'] as const;

export interface LocalRuntimeOptions {
  /** Default `.data` in the working directory. */
  readonly dataDir?: string;
  /** Wipe the data directory first (only one the runtime created). */
  readonly fresh?: boolean;
  /** HTTP port; default `PORT` from the environment, else 7071; 0 picks a free one. */
  readonly port?: number;
  /** Interface to listen on; default 127.0.0.1. Anything else exposes unauthenticated endpoints. */
  readonly hostname?: string;
  /** Stand-in ports; default free ports. */
  readonly cosmosPort?: number;
  readonly azuritePort?: number;
  readonly lakePort?: number;
  /**
   * The app: the compiled entry module (default `<repo>/dist/functions/index.js`), or a function
   * that registers functions itself (tests). Either runs after the settings are in process.env.
   */
  readonly app?: string | (() => void);
  /** Default `<repo>/host.json`. */
  readonly hostJson?: string;
  /** Default `local.settings.json` in the working directory when present; false to ignore it. */
  readonly localSettings?: string | false;
  /** Settings for this run, over the environment and local.settings.json (not over the stand-ins' own). */
  readonly settings?: Readonly<Record<string, string>>;
  /** Added to requests that carry no principal (HttpHost devPrincipal). */
  readonly devPrincipal?: Caller;
  /** Capture window per partition; default 10 s. */
  readonly captureWindowMs?: number;
  /** Where runtime messages go; default the console. */
  readonly logger?: LocalLogger;
  /** Also print the functions' own information logs (default: warnings and errors only). */
  readonly verbose?: boolean;
  /** Print no line per invocation. */
  readonly quiet?: boolean;
  /** Static sites the HTTP host serves; default the operations console's build (`/console` ← `<repo>/console/dist`). */
  readonly staticSites?: readonly StaticSite[];
}

export interface LocalRuntimeEndpoints {
  readonly cosmos: { readonly endpoint: string; readonly key: string; readonly database: string };
  readonly blob: { readonly endpoint: string; readonly connectionString: string };
  readonly lake: { readonly url: string; readonly fileSystem: string };
}

export interface LocalRuntime {
  /** `http://127.0.0.1:<port>`: the HTTP API (`/api/...`), publishing (`/local/eventhubs/{hub}`), the durable API. */
  readonly baseUrl: string;
  readonly dataDir: string;
  readonly functions: readonly RegisteredFunction[];
  readonly endpoints: LocalRuntimeEndpoints;
  /** The settings the app runs with (also in process.env). */
  readonly settings: Readonly<Record<string, string>>;
  readonly namespace: EventHubNamespace;
  readonly engine: DurableEngine;
  /** Mutations the Cosmos stand-in replayed from its log at startup. */
  readonly cosmosReplayed: number;
  /** Lines describing the routes and functions, for a banner. */
  describe(): string[];
  /** Stops everything in order: HTTP, triggers, timers, engine, capture flush, stand-ins. */
  stop(): Promise<void>;
}

/** The repository root: the nearest directory above this module holding package.json. */
export function repoRoot(from = __dirname): string {
  let dir = from;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'host.json'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`No package.json with host.json above ${from}.`);
    dir = up;
  }
}

function readLocalSettings(file: string | undefined): Record<string, string> {
  if (!file || !fs.existsSync(file)) return {};
  const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as { Values?: unknown };
  const values = parsed.Values;
  if (!values || typeof values !== 'object') return {};
  return Object.fromEntries(Object.entries(values as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/**
 * The settings the app runs with, lowest precedence first: local defaults, local.settings.json,
 * the environment, the caller's settings; then what only the runtime knows (stand-in endpoints),
 * which nothing overrides. Azure identity settings are removed.
 */
export function localSettings(
  env: Readonly<Record<string, string | undefined>>,
  fileValues: Readonly<Record<string, string>>,
  overrides: Readonly<Record<string, string>>,
  standIns: Readonly<Record<string, string>>,
): { settings: Record<string, string>; removed: string[] } {
  const settings: Record<string, string> = { ...LOCAL_DEFAULTS };
  const removed = new Set<string>(AZURE_ONLY_SETTINGS);
  for (const [k, v] of Object.entries(fileValues)) settings[k] = v;
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '' && (k in SETTINGS || k in fileValues || k in LOCAL_DEFAULTS)) settings[k] = v;
  for (const [k, v] of Object.entries(overrides)) settings[k] = v;
  for (const k of removed) delete settings[k];
  Object.assign(settings, standIns);
  return { settings, removed: [...removed] };
}

/** Data directories held by runtimes in this process (the lock file tells other processes). */
const held = new Set<string>();

/** One runtime per data directory: a second one would interleave writes to the same logs. */
function prepareDataDir(dataDir: string, fresh: boolean): void {
  if (held.has(dataDir)) throw new Error(`${dataDir} is in use by process ${process.pid} (this one).`);
  if (fresh && fs.existsSync(dataDir) && fs.readdirSync(dataDir).length > 0) {
    if (!fs.existsSync(path.join(dataDir, MARKER))) {
      throw new Error(`Refusing to wipe ${dataDir}: it was not created by the local runtime (no ${MARKER} file).`);
    }
    const lock = path.join(dataDir, LOCK);
    const owner = fs.existsSync(lock) ? Number(fs.readFileSync(lock, 'utf8')) : NaN;
    if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) throw new Error(`${dataDir} is in use by process ${owner}.`);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(path.join(dataDir, MARKER), 'Data of the Fabrikam local runtime (npm start). Safe to delete when it is not running.\n');
  const lock = path.join(dataDir, LOCK);
  if (fs.existsSync(lock)) {
    const owner = Number(fs.readFileSync(lock, 'utf8'));
    if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) {
      throw new Error(`${dataDir} is in use by process ${owner}; stop it or pass another --data-dir.`);
    }
  }
  fs.writeFileSync(lock, String(process.pid));
  held.add(dataDir);
}

function isInvocationContext(value: unknown): value is InvocationContext {
  return typeof value === 'object' && value !== null && 'invocationId' in value && 'extraInputs' in value && 'options' in value;
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
function invocationLine(fn: RegisteredFunction, input: unknown, context: InvocationContext | undefined, result: unknown, error: unknown, ms: number): string {
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
function wrapRegistry(registry: FunctionRegistry, binding: () => DurableClientBindingData, log: (line: string, failed: boolean) => void): FunctionRegistry {
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

function durableHostOptions(hostJsonPath: string): { maxConcurrentActivities: number; hubName: string } {
  const raw = JSON.parse(fs.readFileSync(hostJsonPath, 'utf8')) as { extensions?: { durableTask?: { hubName?: unknown; maxConcurrentActivityFunctions?: unknown } } };
  const dt = raw.extensions?.durableTask ?? {};
  const max = typeof dt.maxConcurrentActivityFunctions === 'number' && dt.maxConcurrentActivityFunctions > 0 ? dt.maxConcurrentActivityFunctions : 10;
  return { maxConcurrentActivities: max, hubName: typeof dt.hubName === 'string' ? dt.hubName : 'LocalTaskHub' };
}

/** Capture only carries numbers, strings, bytes and nulls in application properties. */
function captureProperties(props: Readonly<Record<string, unknown>>): Record<string, CapturePropertyValue> {
  const out: Record<string, CapturePropertyValue> = {};
  for (const [k, v] of Object.entries(props)) {
    if (typeof v === 'number' || typeof v === 'string' || Buffer.isBuffer(v) || v === null) out[k] = v;
    else if (typeof v === 'boolean') out[k] = String(v);
  }
  return out;
}

/**
 * Capture for one hub: every appended event goes to a CaptureWriter; the position after the last
 * event of a window the lake has taken is kept under the data directory, so a restart resumes
 * where the lake stops (at least once: a crash between a file and its position writes those
 * events again, and the archive reader drops the repeats). A failing lake is retried by the
 * writer; the position never moves past a window the lake does not have.
 */
class HubCapture {
  readonly #writer: CaptureWriter;
  readonly #hub: EventHub;
  readonly #file: string;
  readonly #positions: Record<string, number>;
  readonly #next = new Map<string, number>();
  #unsubscribe: (() => void) | undefined;

  constructor(hub: EventHub, fileSystem: ReturnType<DataLakeServiceClient['getFileSystemClient']>, windowMs: number, stateFile: string, log: LocalLogger) {
    this.#hub = hub;
    this.#file = stateFile;
    this.#positions = fs.existsSync(stateFile) ? (JSON.parse(fs.readFileSync(stateFile, 'utf8')) as Record<string, number>) : {};
    this.#writer = new CaptureWriter({
      fileSystem,
      // The folder the app's archive reader looks in: the namespace's name, as Capture names it.
      namespace: captureNamespaceOf(hub.namespace.fullyQualifiedNamespace),
      eventHub: hub.name,
      windowMs,
      onFile: (f) => this.#written(f, log),
      onRetry: (r) => log('warning', `Capture.${hub.name}`, `Partition ${r.partitionId}: writing ${r.path} failed (attempt ${r.attempt}: ${describeError(r.error)}); again in ${r.delayMs} ms.`),
    });
  }

  start(log: LocalLogger): void {
    for (const id of this.#hub.partitionIds) {
      this.#next.set(id, this.#positions[id] ?? 0);
      this.#feed(id, log);
    }
    this.#unsubscribe = this.#hub.onAppend((id) => this.#feed(id, log));
    this.#writer.start(1000, (e) => log('error', `Capture.${this.#hub.name}`, describeError(e)));
  }

  async stop(log: LocalLogger): Promise<void> {
    this.#unsubscribe?.();
    // Windows the lake would not take are not noted: the next start captures them again.
    await this.#writer.stop().catch((e: unknown) => log('warning', `Capture.${this.#hub.name}`, describeError(e)));
  }

  #feed(partitionId: string, log: LocalLogger): void {
    const from = this.#next.get(partitionId) ?? 0;
    const events = this.#hub.read(partitionId, from);
    if (events.length === 0) return;
    for (const e of events) {
      const input: CaptureInput = {
        partitionId,
        sequenceNumber: e.sequenceNumber,
        offset: e.offset,
        enqueuedTime: new Date(e.enqueuedTimeMs),
        body: e.body,
        ...(e.partitionKey !== undefined ? { partitionKey: e.partitionKey } : {}),
        properties: captureProperties(e.properties),
      };
      this.#writer.add(input).catch((err: unknown) => log('error', `Capture.${this.#hub.name}`, `Partition ${partitionId}: ${describeError(err)}`));
    }
    this.#next.set(partitionId, from + events.length);
  }

  #written(file: CapturedFile, log: LocalLogger): void {
    if (file.events === 0) return;
    this.#positions[file.partitionId] = Math.max(this.#positions[file.partitionId] ?? 0, file.lastSequenceNumber + 1);
    const temp = `${this.#file}.${process.pid}.tmp`;
    fs.writeFileSync(temp, JSON.stringify(this.#positions));
    fs.renameSync(temp, this.#file);
    log('information', `Capture.${this.#hub.name}`, `${file.events} event${file.events === 1 ? '' : 's'} → ${file.path} (${file.reason})`);
  }
}

/** `GET /local/status`: what the hubs hold and how far each consumer and Capture got. */
function statusRoute(namespace: EventHubNamespace, dispatchers: () => readonly EventHubTriggerDispatcher[], engine: () => DurableEngine | undefined): LocalRoute {
  return {
    methods: ['GET'],
    path: '/local/status',
    async handle() {
      const hubs = namespace.hubs.map((hub) => ({
        name: hub.name,
        partitions: hub.partitionIds.map((id) => ({ id, lastSequenceNumber: hub.lastSequenceNumber(id) })),
        consumers: dispatchers()
          .filter((d) => d.hubName === hub.name)
          .map((d) => ({
            function: d.functionName,
            consumerGroup: d.consumerGroup,
            next: Object.fromEntries(hub.partitionIds.map((id) => [id, d.position(id)])),
          })),
      }));
      const instances = (await engine()?.listInstances({})) ?? [];
      const byStatus: Record<string, number> = {};
      for (const i of instances) byStatus[i.runtimeStatus] = (byStatus[i.runtimeStatus] ?? 0) + 1;
      return {
        status: 200,
        headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
        body: JSON.stringify({ hubs, orchestrations: byStatus }),
      };
    },
  };
}

/** Starts everything; on any failure, stops what already started and rethrows. */
export async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const root = repoRoot();
  const dataDir = path.resolve(options.dataDir ?? DEFAULT_DATA_DIR);
  const logger = options.logger ?? consoleLogger;
  const appLogger: LocalLogger = (level, category, message) => {
    if (options.verbose || level === 'warning' || level === 'error' || level === 'critical') logger(level, category, message);
  };
  /**
   * What to stop, by phase: the HTTP host first (no new work), then the triggers and timers, the
   * engine, Capture's flush, the hubs, the stand-ins, and last the data directory's lock.
   */
  const stops: { name: string; phase: number; stop: () => Promise<void> | void }[] = [];
  const stopAll = async (): Promise<void> => {
    for (const s of stops.splice(0).sort((a, b) => a.phase - b.phase)) {
      try {
        await s.stop();
      } catch (e) {
        logger('error', 'Runtime', `Stopping ${s.name} failed: ${describeError(e)}`);
      }
    }
  };

  try {
    prepareDataDir(dataDir, options.fresh ?? false);
    stops.push({ name: 'data directory lock', phase: 9, stop: () => {
        held.delete(dataDir);
        fs.rmSync(path.join(dataDir, LOCK), { force: true });
      } });

    // ── Stand-ins ───────────────────────────────────────────────────────────────────────
    // Started side by side; whatever started is stopped if another one fails.
    const started = await Promise.allSettled([
      startAzuriteProcess({ location: path.join(dataDir, 'azurite'), ...(options.azuritePort ? { port: options.azuritePort } : {}) }),
      startDurableCosmos({ dir: path.join(dataDir, 'cosmos'), ...(options.cosmosPort ? { port: options.cosmosPort } : {}) }),
      startLakeServer({ root: path.join(dataDir, 'lake'), account: AZURITE_ACCOUNT, ...(options.lakePort ? { port: options.lakePort } : {}) }),
    ] as const);
    const [azuriteResult, cosmosResult, lakeResult] = started;
    if (azuriteResult.status === 'fulfilled') stops.push({ name: 'Azurite', phase: 8, stop: () => azuriteResult.value.stop() });
    if (cosmosResult.status === 'fulfilled') stops.push({ name: 'Cosmos DB stand-in', phase: 7, stop: () => cosmosResult.value.stop() });
    if (lakeResult.status === 'fulfilled') stops.push({ name: 'lake', phase: 7, stop: () => lakeResult.value.stop() });
    for (const r of started) if (r.status === 'rejected') throw r.reason;
    const azurite = (azuriteResult as PromiseFulfilledResult<AzuriteHandle>).value;
    const cosmos = (cosmosResult as PromiseFulfilledResult<DurableCosmosHandle>).value;
    const lake = (lakeResult as PromiseFulfilledResult<LakeServerHandle>).value;

    // ── Settings, before the app is loaded (its composition reads them once) ────────────
    const hostname = options.hostname ?? '127.0.0.1';
    const envPort = process.env.PORT !== undefined && process.env.PORT !== '' ? Number(process.env.PORT) : undefined;
    let port = options.port ?? envPort ?? 7071;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`Not a port: ${String(port)}.`);
    if (port === 0) port = await freePort(hostname === '0.0.0.0' || hostname === '::' ? '127.0.0.1' : hostname);
    const baseUrl = `http://127.0.0.1:${port}`;
    const settingsFile = options.localSettings === false ? undefined : (options.localSettings ?? path.resolve('local.settings.json'));
    const fileValues = readLocalSettings(settingsFile);
    const { settings, removed } = localSettings(process.env, fileValues, options.settings ?? {}, {
      CosmosConnection__accountEndpoint: cosmos.endpoint,
      CosmosConnection__accountKey: cosmos.key,
      DeadLetterStorage: azurite.connectionString,
      AzureWebJobsStorage: azurite.connectionString,
      ArchiveLake__dfsServiceUri: lake.url,
      LocalEventHubsEndpoint: baseUrl,
      // The app believes principal headers only under the local runtime (or App Service Authentication).
      LocalRuntime: 'true',
    });
    for (const k of removed) delete process.env[k];
    Object.assign(process.env, settings);
    const database = settings.CosmosDatabaseName ?? 'drone-delivery';
    const lakeFileSystem = settings.ArchiveLakeFileSystem ?? 'capture';

    // ── Provisioning (what Bicep creates in Azure) ─────────────────────────────────────
    const cosmosClient = cosmosClientFrom({ endpoint: cosmos.endpoint, emulatorKey: cosmos.key, database }, () => {
      throw new Error('The Cosmos DB stand-in takes its key, not a credential.');
    });
    await provisionCosmos(cosmosClient, database);
    cosmosClient.dispose();
    await provisionBlobs(BlobServiceClient.fromConnectionString(azurite.connectionString));
    const lakeService = new DataLakeServiceClient(lake.url, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY));
    const lakeFs = lakeService.getFileSystemClient(lakeFileSystem);
    await lakeFs.createIfNotExists();

    // ── The app ────────────────────────────────────────────────────────────────────────
    const app = options.app ?? path.join(root, 'dist', 'functions', 'index.js');
    let loaded: FunctionRegistry;
    if (typeof app === 'string') {
      loaded = loadApp(app);
    } else {
      installFunctionsCore();
      app();
      loaded = currentRegistry();
    }
    const hostJson = options.hostJson ?? path.join(root, 'host.json');
    const hostOptions = readHostOptions(hostJson);
    const durableOptions = durableHostOptions(hostJson);
    const taskHubName = resolveSettingRefs(durableOptions.hubName, settings, 'host.json extensions.durableTask.hubName');
    const bindingData = buildDurableClientBindingData({ rpcBaseUrl: `${baseUrl}${DURABLE_WEBHOOK_PATH}`, taskHubName });
    const registry = wrapRegistry(
      loaded,
      () => bindingData,
      (line, failed) => {
        if (!options.quiet || failed) logger(failed ? 'error' : 'information', 'Invocation', line);
      },
    );
    const functions = [...registry.functions.values()];

    // ── Event Hubs, outputs ────────────────────────────────────────────────────────────
    const namespace = EventHubNamespace.open({ hubs: EVENT_HUBS, dataDir });
    stops.push({ name: 'event hubs', phase: 6, stop: () => namespace.close() });
    const outputs = eventHubOutputHook(namespace, settings);
    const afterInvocation: AfterInvocation = outputs;

    // ── HTTP host: held until everything is wired, so early callers never meet half a runtime ──
    let open: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => (open = resolve));
    // Filled in below; the routes read them only once `ready` has let requests through.
    const late: { engine?: DurableEngine; durable?: DurableHttpHandler } = {};
    let dispatchers: EventHubTriggerDispatcher[] = [];
    const http = new HttpHost({
      functions,
      hostname,
      port,
      routePrefix: hostOptions.routePrefix,
      ...(options.devPrincipal ? { devPrincipal: options.devPrincipal } : {}),
      logger: appLogger,
      afterInvocation,
      routes: [eventHubsPublishRoute(namespace), statusRoute(namespace, () => dispatchers, () => late.engine)],
      staticSites: options.staticSites ?? [{ prefix: CONSOLE_PATH, dir: path.join(root, 'console', 'dist'), buildHint: 'npm run build:console' }],
      rawHandlers: [
        async () => {
          await ready;
          return false;
        },
        async (req, res) => (late.durable ? late.durable(req, res) : false),
      ],
    });
    await http.listen();
    stops.push({ name: 'HTTP host', phase: 1, stop: () => http.close() });

    // ── Durable engine (resumes what the store holds in flight) ─────────────────────────
    const engine = await DurableEngine.create({
      registry,
      store: new FileInstanceStore(path.join(dataDir, 'durable')),
      maxConcurrentActivities: durableOptions.maxConcurrentActivities,
      log: (m) => appLogger(/stalled/.test(m) ? 'error' : 'information', 'Durable', m),
      invokeActivity: async (fn, input, invocation) => {
        const context = createInvocationContext(fn, { logger: appLogger, triggerMetadata: { instanceId: invocation.instanceId } });
        const result = await fn.handler(input, context);
        await afterInvocation(fn, context, result);
        return result;
      },
    });
    late.engine = engine;
    stops.push({ name: 'durable engine', phase: 4, stop: () => engine.close() });
    late.durable = createDurableHttpHandler(engine, { taskHubName, publicOrigin: () => baseUrl });

    // ── Capture ────────────────────────────────────────────────────────────────────────
    const captures: HubCapture[] = [];
    for (const decl of EVENT_HUBS.filter((h) => h.capture)) {
      const capture = new HubCapture(
        namespace.hub(decl.name),
        lakeFs,
        options.captureWindowMs ?? DEFAULT_CAPTURE_WINDOW_MS,
        path.join(dataDir, 'eventhubs', decl.name, 'capture.json'),
        appLogger,
      );
      capture.start(appLogger);
      captures.push(capture);
    }
    stops.push({ name: 'capture', phase: 5, stop: async () => void (await Promise.all(captures.map((c) => c.stop(appLogger)))) });

    // ── Timers and Event Hub triggers ────────────────────────────────────────────────────
    const timers = new TimerScheduler({ functions, dataDir, settings, logger: appLogger, afterInvocation }).start();
    stops.push({ name: 'timers', phase: 3, stop: () => timers.stop() });
    dispatchers = startEventHubTriggers(functions, { namespace, settings, host: hostOptions.eventHubs, logger: appLogger, afterInvocation });
    stops.push({ name: 'event hub triggers', phase: 2, stop: async () => void (await Promise.all(dispatchers.map((d) => d.stop()))) });

    const endpoints: LocalRuntimeEndpoints = {
      cosmos: { endpoint: cosmos.endpoint, key: cosmos.key, database },
      blob: { endpoint: azurite.blobEndpoint, connectionString: azurite.connectionString },
      lake: { url: lake.url, fileSystem: lakeFileSystem },
    };
    const infoFile = path.join(dataDir, RUNTIME_INFO_FILE);
    fs.writeFileSync(infoFile, JSON.stringify({ pid: process.pid, baseUrl, dataDir, startedAt: new Date().toISOString(), endpoints }, null, 2));
    stops.push({ name: 'runtime info', phase: 9, stop: () => fs.rmSync(infoFile, { force: true }) });
    open();

    let stopping: Promise<void> | undefined;
    return {
      baseUrl,
      dataDir,
      functions,
      endpoints,
      settings,
      namespace,
      engine,
      cosmosReplayed: cosmos.replayed,
      describe: () => describeRuntime(functions, baseUrl, hostOptions.routePrefix),
      stop: () => (stopping ??= stopAll()),
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

/** The banner's list: HTTP routes, then every other function by trigger, then the runtime's own endpoints. */
export function describeRuntime(functions: readonly RegisteredFunction[], baseUrl: string, routePrefix: string): string[] {
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
  lines.push(`  console: ${baseUrl}${CONSOLE_PATH}/`);
  return lines;
}
