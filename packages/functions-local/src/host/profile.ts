/**
 * The app-specific half of the local runtime, supplied by the app's launcher: everything the
 * runtime cannot learn from the registrations. Which hubs, containers and file systems to
 * create (what Bicep creates in Azure), which settings carry the stand-ins' endpoints, how the app
 * names its Capture folder, how a caller is written into headers and how an error response
 * looks. The runtime imports no app code; an app passes one of these to `startLocalRuntime`.
 */
import type { EventHubDecl } from '../eventhubs/hub';
import type { PrincipalHeaders, ProblemResponder } from '../http/options';
import type { StaticSite } from '../http/static-site';
import type { BlobContainerSpec, CosmosContainerSpec } from './provision';

/** Where the stand-ins listen, for `LocalAppProfile.standInSettings`. */
export interface StandInEndpoints {
  readonly cosmos: { readonly endpoint: string; readonly key: string };
  /** Azurite's connection string (blobs, queues, tables). */
  readonly storageConnectionString: string;
  /** The Data Lake stand-in's dfs endpoint. */
  readonly lakeUrl: string;
  /** The runtime's own base URL, where `/local/eventhubs/{hub}` publishes. */
  readonly baseUrl: string;
}

export interface CapturedHubDecl extends EventHubDecl {
  /** Whether Capture archives this hub to the lake. */
  readonly capture: boolean;
  /** The consumer groups and the settings that carry their names. */
  readonly consumerGroups: readonly { readonly name: string; readonly setting: string }[];
}

export interface LocalAppProfile {
  readonly eventHubs: readonly CapturedHubDecl[];
  readonly cosmosContainers: readonly CosmosContainerSpec[];
  readonly blobContainers: readonly BlobContainerSpec[];
  readonly settings: {
    /** Local values for settings with no default or a poor one on one machine; the user's values win. */
    readonly defaults: Readonly<Record<string, string>>;
    /** Settings the environment may set (besides those in local.settings.json and `defaults`). */
    readonly known: readonly string[];
    /** Settings that would point the app at Azure: removed before the app loads. */
    readonly azureOnly: readonly string[];
    /** The settings that point the app at the stand-ins; nothing overrides them. */
    standIns(endpoints: StandInEndpoints): Record<string, string>;
    /** The setting naming the Cosmos database, and the one naming the lake's Capture file system. */
    readonly cosmosDatabase: { readonly setting: string; readonly fallback: string };
    readonly lakeFileSystem: { readonly setting: string; readonly fallback: string };
  };
  /** The lake folder Capture writes a hub's files under (Capture uses the namespace's name). */
  captureFolder(fullyQualifiedNamespace: string): string;
  readonly principalHeaders: PrincipalHeaders;
  readonly problem: ProblemResponder;
  /** The app's compiled entry module, when `LocalRuntimeOptions.app` names none. */
  readonly entry: string;
  readonly hostJson: string;
  /** Static files the HTTP host serves beside the functions (an app's web front end), if any. */
  readonly staticSites?: readonly StaticSite[];
}
