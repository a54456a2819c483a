/**
 * The Fabrikam app as the local runtime sees it: the one place that knows both the app and
 * @fabrikam/functions-local. It turns the app's declarations (functions/resources.ts, the
 * settings in functions/config.ts, its identity headers and problem responses) into the
 * runtime's profile, and binds the runtime's generic entry points to it for start.ts, the
 * benchmarks, the simulator and the tests.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { CosmosClient } from '@azure/cosmos';
import type { BlobServiceClient } from '@azure/storage-blob';
import * as runtime from '@fabrikam/functions-local';
import type { LocalAppProfile, LocalRuntime, LocalRuntimeOptions } from '@fabrikam/functions-local';
import { captureNamespaceOf, SETTINGS } from '../../functions/config';
import { principalHeaders } from '../../functions/http/identity';
import { problemResponse } from '../../functions/http/problem';
import { allBlobContainers, allCosmosContainers, EVENT_HUBS } from '../../functions/resources';

export type { LocalLogger, LocalRuntime, LocalRuntimeOptions } from '@fabrikam/functions-local';
export type { EventToPublish } from '@fabrikam/functions-local';
export { DEFAULT_CAPTURE_WINDOW_MS, DEFAULT_DATA_DIR, RUNTIME_INFO_FILE } from '@fabrikam/functions-local';

/** The repository root: the nearest directory above this module holding package.json and host.json. */
/** The operations console (console/, built by `npm run build:console` into console/dist). */
export const CONSOLE_PATH = '/console';

export function repoRoot(from = __dirname): string {
  let dir = from;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'host.json'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`No package.json with host.json above ${from}.`);
    dir = up;
  }
}

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

export function fabrikamProfile(root = repoRoot()): LocalAppProfile {
  return {
    eventHubs: EVENT_HUBS,
    cosmosContainers: allCosmosContainers(),
    blobContainers: allBlobContainers(),
    settings: {
      defaults: LOCAL_DEFAULTS,
      known: Object.keys(SETTINGS),
      // They name Azure resources by identity: locally they would point the app at Azure (or a
      // placeholder from local.settings.json), so they go and the emulator settings are set.
      azureOnly: ['DeadLetterStorage__blobServiceUri', 'EventHubConnection__fullyQualifiedNamespace'],
      standIns: (e) => ({
        CosmosConnection__accountEndpoint: e.cosmos.endpoint,
        CosmosConnection__accountKey: e.cosmos.key,
        DeadLetterStorage: e.storageConnectionString,
        AzureWebJobsStorage: e.storageConnectionString,
        ArchiveLake__dfsServiceUri: e.lakeUrl,
        LocalEventHubsEndpoint: e.baseUrl,
        // The app believes principal headers only under the local runtime (or App Service Authentication).
        LocalRuntime: 'true',
      }),
      cosmosDatabase: { setting: 'CosmosDatabaseName', fallback: 'drone-delivery' },
      lakeFileSystem: { setting: 'ArchiveLakeFileSystem', fallback: 'capture' },
    },
    // The folder the app's archive reader looks in: the namespace's name, as Capture names it.
    captureFolder: captureNamespaceOf,
    principalHeaders,
    problem: problemResponse,
    entry: path.join(root, 'dist', 'functions', 'index.js'),
    hostJson: path.join(root, 'host.json'),
    staticSites: [
      { prefix: CONSOLE_PATH, dir: path.join(root, 'console', 'dist'), buildHint: 'npm run build:console' },
    ],
  };
}

/** The local runtime running this app. */
export function startLocalRuntime(options: Omit<LocalRuntimeOptions, 'profile'> = {}): Promise<LocalRuntime> {
  return runtime.startLocalRuntime({ profile: fabrikamProfile(), ...options });
}

/** The runtime's settings merge with this app's local defaults and setting names. */
export function localSettings(
  env: Readonly<Record<string, string | undefined>>,
  fileValues: Readonly<Record<string, string>>,
  overrides: Readonly<Record<string, string>>,
  standIns: Readonly<Record<string, string>>,
): { settings: Record<string, string>; removed: string[] } {
  return runtime.localSettings(fabrikamProfile().settings, env, fileValues, overrides, standIns);
}

/** Creates the app's Cosmos database and containers (what Bicep creates in Azure). */
export function provisionCosmos(client: CosmosClient, databaseId: string): Promise<void> {
  return runtime.provisionCosmos(client, databaseId, allCosmosContainers());
}

/** Creates the app's blob containers. */
export function provisionBlobs(service: BlobServiceClient): Promise<void> {
  return runtime.provisionBlobs(service, allBlobContainers());
}
