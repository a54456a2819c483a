/**
 * The local runtime: a whole v4 function app on one machine, with no Azure, Docker or Core Tools.
 * `startLocalRuntime` starts the stand-ins under a data directory (Azurite for blobs, the Cosmos
 * DB stand-in behind its write-ahead log, the Data Lake stand-in), provisions what the app's
 * profile declares (what Bicep creates in Azure), sets the app's settings, loads the compiled app
 * unchanged through the functions-core seam, and runs every registration the way the Functions
 * host would: HTTP triggers on one HTTP host, Event Hub triggers on the in-process hubs with
 * host.json batching and checkpoints, timers, orchestrations and activities on the durable engine
 * (with the Durable extension's HTTP API on the same host), `eventHub` outputs, and Capture to the
 * lake.
 *
 * Everything that matters survives `kill -9`: hub logs and checkpoints, timer status, durable
 * instances, Cosmos state (WAL), blobs (Azurite on disk) and the lake (files). What is specific to
 * the app comes in as `options.profile` (profile.ts); the runtime imports no app code. Services
 * start in the order below and stop in reverse (services.ts).
 *
 * A little over 300 lines once formatted: the start order of the services is the one thing to read
 * here, and it reads best as one sequence.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CosmosClient } from '@azure/cosmos';
import { BlobServiceClient } from '@azure/storage-blob';
import { DataLakeServiceClient, StorageSharedKeyCredential } from '@azure/storage-file-datalake';
import { startAzuriteProcess } from '../azurite/process';
import { currentRegistry, installFunctionsCore, loadApp } from '../core/functions-core';
import type { FunctionRegistry, RegisteredFunction } from '../core/functions-core';
import { startCosmosThread } from '../cosmos/thread';
import type { StandInProfiler } from '../cosmos/thread';
import {
  buildDurableClientBindingData,
  createDurableHttpHandler,
  DURABLE_WEBHOOK_PATH,
  DurableEngine,
  FileInstanceStore,
} from '../durable';
import type { DurableHttpHandler } from '../durable';
import { EventHubNamespace, eventHubOutputHook, eventHubsPublishRoute, startEventHubTriggers } from '../eventhubs';
import type { EventHubTriggerDispatcher } from '../eventhubs';
import { HttpHost } from '../http/host';
import type { Principal } from '../http/options';
import { HubCapture } from '../lake/hub-capture';
import { startLakeServer } from '../lake/server';
import { TimerScheduler } from '../timers/scheduler';
import { prepareDataDir, releaseDataDir } from './data-dir';
import { readHostOptions } from './host-options';
import { consoleLogger, createInvocationContext } from './invocation';
import type { AfterInvocation, LocalLogger } from './invocation';
import { localSettings, readLocalSettings } from './local-settings';
import type { LocalAppProfile } from './profile';
import { provisionBlobs, provisionCosmos } from './provision';
import { describeRuntime, durableHostOptions, wrapRegistry } from './registry';
import { resolveSettingRefs } from './settings';
import { AZURITE_ACCOUNT, AZURITE_KEY, freePort } from './standins';
import { ServiceList } from './services';
import { statusRoute } from './status-route';

export const DEFAULT_DATA_DIR = '.data';
export const DEFAULT_CAPTURE_WINDOW_MS = 10_000;
export const RUNTIME_INFO_FILE = 'runtime.json';

export interface LocalRuntimeOptions {
  /** What is specific to the app: its resources, settings, identity headers, error responses (profile.ts). */
  readonly profile: LocalAppProfile;
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
   * The app: the compiled entry module (default the profile's `entry`), or a function that
   * registers functions itself (tests). Either runs after the settings are in process.env.
   */
  readonly app?: string | (() => void);
  /** Default the profile's `hostJson`. */
  readonly hostJson?: string;
  /** Default `local.settings.json` in the working directory when present; false to ignore it. */
  readonly localSettings?: string | false;
  /** Settings for this run, over the environment and local.settings.json (not over the stand-ins' own). */
  readonly settings?: Readonly<Record<string, string>>;
  /** Added to requests that carry no principal (HttpHost devPrincipal). */
  readonly devPrincipal?: Principal;
  /** Capture window per partition; default 10 s. */
  readonly captureWindowMs?: number;
  /** Where runtime messages go; default the console. */
  readonly logger?: LocalLogger;
  /** Also print the functions' own information logs (default: warnings and errors only). */
  readonly verbose?: boolean;
  /** Print no line per invocation. */
  readonly quiet?: boolean;
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
  /** The Cosmos DB stand-in's CPU profiler, when it runs on a thread of its own (see cosmos/thread.ts). */
  readonly cosmosProfiler?: StandInProfiler;
  /** Lines describing the routes and functions, for a banner. */
  describe(): string[];
  /** Stops every service in reverse start order: HTTP intake, triggers, timers, engine, capture flush, hubs, stand-ins. */
  stop(): Promise<void>;
}

/** Starts every service in order; on any failure, stops what already started and rethrows. */
export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const { profile } = options;
  const dataDir = path.resolve(options.dataDir ?? DEFAULT_DATA_DIR);
  const logger = options.logger ?? consoleLogger;
  const appLogger: LocalLogger = (level, category, message) => {
    if (options.verbose || level === 'warning' || level === 'error' || level === 'critical')
      logger(level, category, message);
  };
  const services = new ServiceList(logger);

  try {
    prepareDataDir(dataDir, options.fresh ?? false);
    services.add('data directory lock', () => releaseDataDir(dataDir));

    // Stand-ins, started side by side; whatever started is stopped if another one fails.
    const started = await Promise.allSettled([
      startAzuriteProcess({
        location: path.join(dataDir, 'azurite'),
        ...(options.azuritePort ? { port: options.azuritePort } : {}),
      }),
      startCosmosThread(
        {
          dir: path.join(dataDir, 'cosmos'),
          ...(options.cosmosPort ? { port: options.cosmosPort } : {}),
        },
        (e) =>
          logger(
            'critical',
            'Cosmos DB stand-in',
            `${e.message}; Cosmos requests will fail until the runtime is restarted`,
          ),
      ),
      startLakeServer({
        root: path.join(dataDir, 'lake'),
        account: AZURITE_ACCOUNT,
        ...(options.lakePort ? { port: options.lakePort } : {}),
      }),
    ] as const);
    const [azuriteResult, cosmosResult, lakeResult] = started;
    if (azuriteResult.status === 'fulfilled') services.add('Azurite', () => azuriteResult.value.stop());
    if (cosmosResult.status === 'fulfilled') services.add('Cosmos DB stand-in', () => cosmosResult.value.stop());
    if (lakeResult.status === 'fulfilled') services.add('lake', () => lakeResult.value.stop());
    if (azuriteResult.status === 'rejected') throw azuriteResult.reason;
    if (cosmosResult.status === 'rejected') throw cosmosResult.reason;
    if (lakeResult.status === 'rejected') throw lakeResult.reason;
    const azurite = azuriteResult.value;
    const cosmos = cosmosResult.value;
    const lake = lakeResult.value;

    // Settings, before the app is loaded (its composition reads them once).
    const hostname = options.hostname ?? '127.0.0.1';
    const envPort = process.env.PORT !== undefined && process.env.PORT !== '' ? Number(process.env.PORT) : undefined;
    let port = options.port ?? envPort ?? 7071;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`Not a port: ${String(port)}.`);
    if (port === 0) port = await freePort(hostname === '0.0.0.0' || hostname === '::' ? '127.0.0.1' : hostname);
    const baseUrl = `http://127.0.0.1:${port}`;
    const settingsFile =
      options.localSettings === false ? undefined : (options.localSettings ?? path.resolve('local.settings.json'));
    const standIns = profile.settings.standIns({
      cosmos: { endpoint: cosmos.endpoint, key: cosmos.key },
      storageConnectionString: azurite.connectionString,
      lakeUrl: lake.url,
      baseUrl,
    });
    const { settings, removed } = localSettings(
      profile.settings,
      process.env,
      readLocalSettings(settingsFile),
      options.settings ?? {},
      standIns,
    );
    for (const k of removed) delete process.env[k];
    Object.assign(process.env, settings);
    const database = settings[profile.settings.cosmosDatabase.setting] ?? profile.settings.cosmosDatabase.fallback;
    const lakeFileSystem =
      settings[profile.settings.lakeFileSystem.setting] ?? profile.settings.lakeFileSystem.fallback;

    // Provisioning: what Bicep creates in Azure.
    const cosmosClient = new CosmosClient({
      endpoint: cosmos.endpoint,
      key: cosmos.key,
      connectionPolicy: { enableEndpointDiscovery: false },
    });
    await provisionCosmos(cosmosClient, database, profile.cosmosContainers);
    cosmosClient.dispose();
    await provisionBlobs(BlobServiceClient.fromConnectionString(azurite.connectionString), profile.blobContainers);
    const lakeService = new DataLakeServiceClient(
      lake.url,
      new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY),
    );
    const lakeFs = lakeService.getFileSystemClient(lakeFileSystem);
    await lakeFs.createIfNotExists();

    // The app, loaded unchanged through the seam.
    const app = options.app ?? profile.entry;
    let loaded: FunctionRegistry;
    if (typeof app === 'string') {
      loaded = loadApp(app);
    } else {
      installFunctionsCore();
      app();
      loaded = currentRegistry();
    }
    const hostJson = options.hostJson ?? profile.hostJson;
    const hostOptions = readHostOptions(hostJson);
    const durableOptions = durableHostOptions(hostJson);
    const taskHubName = resolveSettingRefs(
      durableOptions.hubName,
      settings,
      'host.json extensions.durableTask.hubName',
    );
    const bindingData = buildDurableClientBindingData({ rpcBaseUrl: `${baseUrl}${DURABLE_WEBHOOK_PATH}`, taskHubName });
    const registry = wrapRegistry(
      loaded,
      () => bindingData,
      (line, failed) => {
        if (!options.quiet || failed) logger(failed ? 'error' : 'information', 'Invocation', line);
      },
    );
    const functions = [...registry.functions.values()];

    const namespace = EventHubNamespace.open({ hubs: profile.eventHubs, dataDir });
    services.add('event hubs', () => namespace.close());
    const afterInvocation: AfterInvocation = eventHubOutputHook(namespace, settings);

    // The HTTP host listens now (resumed work may call it) but holds every request until the
    // intake opens, last, so early callers never meet half a runtime.
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
      principalHeaders: profile.principalHeaders,
      problem: profile.problem,
      logger: appLogger,
      afterInvocation,
      routes: [
        eventHubsPublishRoute(namespace, profile.problem),
        statusRoute(
          namespace,
          () => dispatchers,
          () => late.engine,
        ),
      ],
      staticSites: profile.staticSites ?? [],
      rawHandlers: [
        async () => {
          await ready;
          return false;
        },
        async (req, res) => (late.durable ? late.durable(req, res) : false),
      ],
    });
    await http.listen();
    // Closed by the intake, which stops first; this stop covers a start that failed before it.
    services.add('HTTP listener', () => http.close());

    // Capture before the engine, so the engine stops (no new events) before Capture's last flush.
    const captures: HubCapture[] = [];
    for (const decl of profile.eventHubs.filter((h) => h.capture)) {
      const hub = namespace.hub(decl.name);
      const capture = new HubCapture(
        hub,
        lakeFs,
        profile.captureFolder(hub.namespace.fullyQualifiedNamespace),
        options.captureWindowMs ?? DEFAULT_CAPTURE_WINDOW_MS,
        path.join(dataDir, 'eventhubs', decl.name, 'capture.json'),
        appLogger,
      );
      capture.start(appLogger);
      captures.push(capture);
    }
    services.add('capture', async () => void (await Promise.all(captures.map((c) => c.stop(appLogger)))));

    // The durable engine resumes what the store holds in flight.
    const engine = await DurableEngine.create({
      registry,
      store: new FileInstanceStore(path.join(dataDir, 'durable')),
      maxConcurrentActivities: durableOptions.maxConcurrentActivities,
      log: (m) => appLogger(/stalled/.test(m) ? 'error' : 'information', 'Durable', m),
      invokeActivity: async (fn, input, invocation) => {
        const context = createInvocationContext(fn, {
          logger: appLogger,
          triggerMetadata: { instanceId: invocation.instanceId },
        });
        const result = await fn.handler(input, context);
        await afterInvocation(fn, context, result);
        return result;
      },
    });
    late.engine = engine;
    services.add('durable engine', () => engine.close());
    late.durable = createDurableHttpHandler(engine, { taskHubName, publicOrigin: () => baseUrl });

    const timers = new TimerScheduler({ functions, dataDir, settings, logger: appLogger, afterInvocation }).start();
    services.add('timers', () => timers.stop());
    dispatchers = startEventHubTriggers(functions, {
      namespace,
      settings,
      host: hostOptions.eventHubs,
      logger: appLogger,
      afterInvocation,
    });
    services.add('event hub triggers', async () => void (await Promise.all(dispatchers.map((d) => d.stop()))));

    const endpoints: LocalRuntimeEndpoints = {
      cosmos: { endpoint: cosmos.endpoint, key: cosmos.key, database },
      blob: { endpoint: azurite.blobEndpoint, connectionString: azurite.connectionString },
      lake: { url: lake.url, fileSystem: lakeFileSystem },
    };
    const infoFile = path.join(dataDir, RUNTIME_INFO_FILE);
    fs.writeFileSync(
      infoFile,
      JSON.stringify({ pid: process.pid, baseUrl, dataDir, startedAt: new Date().toISOString(), endpoints }, null, 2),
    );
    services.add('runtime info', () => fs.rmSync(infoFile, { force: true }));
    open();
    services.add('HTTP intake', () => http.close());

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
      ...(cosmos.profiler ? { cosmosProfiler: cosmos.profiler } : {}),
      describe: () => describeRuntime(functions, baseUrl, hostOptions.routePrefix, profile.staticSites ?? []),
      stop: () => (stopping ??= services.stopAll()),
    };
  } catch (e) {
    await services.stopAll();
    throw e;
  }
}
