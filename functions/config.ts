/**
 * Settings, read once from the environment into a typed, frozen object. Every missing or
 * malformed setting is named in one error, so a misconfigured app fails at its first
 * invocation with the whole list instead of one setting at a time.
 *
 * Connections follow the platform's identity-based convention (`<Name>__accountEndpoint`,
 * `<Name>__blobServiceUri`, …). Keys and connection strings are accepted only for emulators
 * on loopback: in Azure every data-plane call uses the managed identity.
 *
 * Over 450 lines (since the tree was formatted at 120 columns): one parser, so that one error
 * names every bad setting; the declarations are the table infra/generated is built from.
 */
import { STEP_MAX_RETRY_MS } from '../domain/delivery/saga';
import type { RetryPolicy } from '../domain/shared/retry';
import { COSMOS_DATABASE } from './resources';
import type { TracingSettings } from './tracing/bootstrap';

export interface CosmosSettings {
  readonly endpoint: string;
  /** Present only for a loopback emulator; in Azure the client uses DefaultAzureCredential. */
  readonly emulatorKey?: string;
  readonly database: string;
}

/** A blob endpoint: by identity (Azure) or by connection string (Azurite). */
export type BlobSettings =
  | { readonly kind: 'identity'; readonly serviceUri: string }
  | { readonly kind: 'connectionString'; readonly connectionString: string };

export interface BreakerSettings {
  readonly failureThreshold: number;
  readonly openMs: number;
}

export interface AppConfig {
  readonly cosmos: CosmosSettings;
  readonly deadLetter: BlobSettings;
  readonly eventHubsNamespace?: string;
  readonly consumerGroups: { readonly ingestion: string; readonly projector: string };
  readonly ingestion: {
    readonly breaker: BreakerSettings;
    /** Attempts per drone write inside one invocation before the batch is handed to the retry policy. */
    readonly writeAttempts: number;
  };
  readonly health: { readonly timeoutMs: number };
  /** Where the app publishes events with a partition key: Event Hubs in Azure, the local runtime locally. */
  readonly publishing:
    | { readonly kind: 'eventHubs'; readonly namespace: string }
    | { readonly kind: 'localRuntime'; readonly endpoint: string };
  readonly lake?: LakeSettings;
  readonly saga: SagaSettings;
  readonly fleet: FleetSettings;
  readonly history: HistorySettings;
  /** Whether `x-ms-client-principal*` headers were set by the platform (and so may be believed). */
  readonly principalTrust: PrincipalTrust;
  /** Where spans go (functions/tracing/bootstrap.ts). */
  readonly tracing: TracingSettings;
}

/**
 * Who vouches for the principal headers. App Service Authentication in Azure (it strips
 * client-sent ones and sets its own); the local runtime locally (it is the only caller that can
 * reach the app). Anything else passes client-sent headers through unchanged, so they are
 * ignored and every route but health answers 401.
 */
export type PrincipalTrust =
  | { readonly kind: 'appServiceAuthentication' }
  | { readonly kind: 'localRuntime' }
  | { readonly kind: 'untrusted'; readonly reason: string };

export interface LakeSettings {
  readonly dfsServiceUri: string;
  readonly fileSystem: string;
  /** Capture's `{Namespace}` path segment: the Event Hubs namespace name. */
  readonly captureNamespace: string;
}

/** Capture names its folders after the namespace name, the first label of the namespace host. */
export function captureNamespaceOf(fullyQualifiedNamespace: string | undefined): string {
  return fullyQualifiedNamespace ? (fullyQualifiedNamespace.split('.')[0] ?? fullyQualifiedNamespace) : 'local';
}

/** What the app knows about drones from their telemetry. */
export interface FleetSettings {
  /** A drone whose last accepted report is older than this is not assigned and shows `stale` (docs/contract.md §2). */
  readonly droneFreshnessMs: number;
  /** How long one fleet query serves the assignments of an instance (0: none is shared). */
  readonly snapshotMs: number;
}

export interface SagaSettings {
  /** Bound on sagas in flight; the intake answers 429 beyond it. */
  readonly maxInFlight: number;
  readonly pickupSlaMs: number;
  readonly deliverySlaMs: number;
  readonly assignmentSlaMs: number;
  readonly assignmentRetryMs: number;
  /** Retries of one saga step or rebuild slice, carried out by the Durable extension. */
  readonly stepRetry: RetryPolicy;
  readonly cruiseSpeedMps: number;
  readonly handlingSeconds: number;
  readonly maxPickupDistanceKm: number;
  /** Store requests an instance's agents make at once (a bulkhead; a call making several takes as many). */
  readonly agentParallelism: number;
  readonly supervisorGraceMs: number;
}

/** Delivery history: the projector, the status view and its rebuild. */
export interface HistorySettings {
  /** Finished deliveries' status views expire this many days after their last write. */
  readonly statusViewTtlDays: number;
  /** Attempts per event-store or view call inside one invocation before the batch is handed to the retry policy. */
  readonly writeAttempts: number;
  /** The longest `to - from` a rebuild job may cover. */
  readonly rebuildMaxRangeMs: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n- ${problems.join('\n- ')}`,
    );
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Every setting the code reads, with what it is for and where it applies: `app` settings are
 * set on the function app in Azure (Bicep) and locally; `emulator` settings exist only for
 * loopback emulators and must never be set in Azure. local.settings.sample.json and the Bicep
 * app settings are checked against this list by tests.
 */
export interface SettingSpec {
  readonly description: string;
  /** `platform`: set by Azure itself on the running app, never by Bicep or local settings. */
  readonly where: 'app' | 'emulator' | 'platform';
}

export const SETTINGS = {
  CosmosConnection__accountEndpoint: {
    where: 'app',
    description: 'Cosmos DB account endpoint (https://<account>.documents.azure.com:443/).',
  },
  CosmosConnection__accountKey: {
    where: 'emulator',
    description: 'Emulator key; accepted only with a loopback endpoint. Never set in Azure.',
  },
  CosmosDatabaseName: { where: 'app', description: 'Cosmos DB database name. Default: drone-delivery.' },
  DeadLetterStorage__blobServiceUri: {
    where: 'app',
    description: 'Blob endpoint holding the deadletter container (identity-based).',
  },
  DeadLetterStorage: {
    where: 'emulator',
    description: 'Connection string for the dead-letter blob account; accepted only for a loopback emulator.',
  },
  EventHubConnection__fullyQualifiedNamespace: {
    where: 'app',
    description: 'Event Hubs namespace host name, used by the triggers and publishers.',
  },
  TelemetryConsumerGroup: {
    where: 'app',
    description: 'Consumer group of the telemetry ingestion trigger. Default: ingestion.',
  },
  ProjectorConsumerGroup: {
    where: 'app',
    description: 'Consumer group of the delivery-events projector. Default: projector.',
  },
  IngestionBreakerFailureThreshold: {
    where: 'app',
    description: 'Consecutive transient store failures that open the ingestion breaker. Default: 5.',
  },
  IngestionBreakerOpenMs: {
    where: 'app',
    description: 'How long the breaker stays open before one trial call. Default: 30000.',
  },
  IngestionWriteAttempts: { where: 'app', description: 'Attempts per drone write within one invocation. Default: 4.' },
  HealthCheckTimeoutMs: {
    where: 'app',
    description: 'Timeout of each dependency check of GET /api/health. Default: 2000.',
  },
  LocalEventHubsEndpoint: {
    where: 'emulator',
    description:
      "The local runtime's base URL for publishing events (POST /local/eventhubs/{hub}); loopback only. Set by npm start.",
  },
  ArchiveLake__dfsServiceUri: {
    where: 'app',
    description: 'Data Lake (dfs) endpoint of the Capture archive, e.g. https://<account>.dfs.core.windows.net.',
  },
  ArchiveLakeFileSystem: { where: 'app', description: 'File system (container) Capture writes to. Default: capture.' },
  SagaMaxInFlight: { where: 'app', description: 'Sagas in flight before the intake answers 429. Default: 1000.' },
  PickupSlaMinutes: {
    where: 'app',
    description: 'Minutes from scheduling until the package must be picked up. Default: 30.',
  },
  DeliverySlaMinutes: {
    where: 'app',
    description: 'Minutes from scheduling until the delivery must be completed. Default: 120.',
  },
  AssignmentSlaMinutes: {
    where: 'app',
    description: 'Minutes to keep looking for a free drone before failing. Default: 10.',
  },
  AssignmentRetrySeconds: { where: 'app', description: 'Seconds between attempts to find a free drone. Default: 30.' },
  SagaStepAttempts: { where: 'app', description: 'Attempts per saga step (activity retry policy). Default: 5.' },
  SagaStepFirstRetryMs: {
    where: 'app',
    description: 'First retry interval of a saga step; doubles per attempt up to 1 minute. Default: 2000.',
  },
  DroneCruiseSpeedMps: { where: 'app', description: 'Cruise speed used for ETAs. Default: 15.' },
  DeliveryHandlingSeconds: { where: 'app', description: 'Loading/unloading time at each end, for ETAs. Default: 60.' },
  DroneMaxPickupDistanceKm: {
    where: 'app',
    description: 'How far from the pickup an assigned drone may be. Default: 25.',
  },
  DroneFreshnessMinutes: {
    where: 'app',
    description:
      "How old a drone's last accepted report may be for it to be assigned; older ones show stale. Default: 10.",
  },
  FleetSnapshotMs: {
    where: 'app',
    description:
      'Milliseconds one answer of the available-fleet query, and one of the held-drones query, serves every drone assignment on an instance; 0 queries for each. Default: 1000.',
  },
  AgentParallelism: { where: 'app', description: "Store requests an instance's agents make at once. Default: 8." },
  SupervisorSchedule: {
    where: 'app',
    description: 'NCRONTAB schedule of the saga supervisor. Default set in app settings: 0 */5 * * * *.',
  },
  SupervisorGraceMinutes: {
    where: 'app',
    description: "Minutes past a saga's complete-by time before the supervisor acts. Default: 5.",
  },
  StatusViewTtlDays: {
    where: 'app',
    description: "Days a finished delivery's status view is kept after its last change (per-item TTL). Default: 30.",
  },
  ProjectorWriteAttempts: {
    where: 'app',
    description: 'Attempts per event-store or status-view call within one projector invocation. Default: 4.',
  },
  RebuildMaxRangeDays: {
    where: 'app',
    description: 'Longest time range one view rebuild job may cover, in days. Default: 31.',
  },
  WEBSITE_AUTH_ENABLED: {
    where: 'platform',
    description:
      'Set by App Service to True when App Service Authentication is enabled for the app; only then are principal headers believed in Azure.',
  },
  WEBSITE_SITE_NAME: { where: 'platform', description: 'Set by App Service to the app name: the app runs in Azure.' },
  APPLICATIONINSIGHTS_CONNECTION_STRING: {
    where: 'app',
    description:
      'Application Insights connection string: where the app exports its OpenTelemetry spans (Azure Monitor exporter, managed identity). Unset: no export.',
  },
  LocalRuntime: {
    where: 'emulator',
    description:
      'true when the app runs under the local runtime (npm start), which alone sets principal headers locally. Never set in Azure.',
  },
} as const satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof SETTINGS;

class Reader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  raw(name: SettingName): string | undefined {
    const v = this.env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  }

  required(name: SettingName): string {
    const v = this.raw(name);
    if (v === undefined) this.problems.push(`${name} is missing: ${SETTINGS[name].description}`);
    return v ?? '';
  }

  string(name: SettingName, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  int(name: SettingName, fallback: number, min: number, max: number): number {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      this.problems.push(`${name} must be an integer in [${min}, ${max}], got "${v}".`);
      return fallback;
    }
    return n;
  }

  url(name: SettingName, value: string): URL | undefined {
    try {
      return new URL(value);
    } catch {
      this.problems.push(`${name} must be an absolute URL, got "${value}".`);
      return undefined;
    }
  }
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
export const isLoopback = (url: URL): boolean => LOOPBACK.has(url.hostname);

function readCosmos(r: Reader): CosmosSettings {
  const endpoint = r.required('CosmosConnection__accountEndpoint');
  const key = r.raw('CosmosConnection__accountKey');
  const database = r.string('CosmosDatabaseName', COSMOS_DATABASE);
  if (endpoint) {
    const url = r.url('CosmosConnection__accountEndpoint', endpoint);
    if (url && key && !isLoopback(url)) {
      r.problems.push(
        'CosmosConnection__accountKey is accepted only for a loopback emulator; in Azure the app uses its managed identity.',
      );
    }
    if (url && !key && url.protocol !== 'https:') {
      r.problems.push(
        'CosmosConnection__accountEndpoint must be https unless it is a loopback emulator with CosmosConnection__accountKey.',
      );
    }
  }
  return key ? { endpoint, emulatorKey: key, database } : { endpoint, database };
}

function readBlob(r: Reader, uriName: SettingName, connName: SettingName): BlobSettings {
  const uri = r.raw(uriName);
  const conn = r.raw(connName);
  if (uri) {
    r.url(uriName, uri);
    return { kind: 'identity', serviceUri: uri };
  }
  if (conn) {
    const m = /BlobEndpoint=([^;]+)/i.exec(conn);
    const endpoint = m?.[1] ? r.url(connName, m[1]) : undefined;
    if (!endpoint || !isLoopback(endpoint)) {
      r.problems.push(
        `${connName} (a connection string) is accepted only for a loopback emulator with an explicit BlobEndpoint; in Azure set ${uriName}.`,
      );
    }
    return { kind: 'connectionString', connectionString: conn };
  }
  r.problems.push(`${uriName} is missing: ${SETTINGS[uriName].description}`);
  return { kind: 'identity', serviceUri: '' };
}

function readPublishing(r: Reader, namespace: string | undefined): AppConfig['publishing'] {
  const local = r.raw('LocalEventHubsEndpoint');
  if (local) {
    const url = r.url('LocalEventHubsEndpoint', local);
    if (url && !isLoopback(url))
      r.problems.push(
        'LocalEventHubsEndpoint must be a loopback URL (it is the local runtime); in Azure set EventHubConnection__fullyQualifiedNamespace.',
      );
    return { kind: 'localRuntime', endpoint: local };
  }
  if (!namespace) {
    r.problems.push(
      'EventHubConnection__fullyQualifiedNamespace is missing: the app publishes delivery events to Event Hubs (or set LocalEventHubsEndpoint when running locally).',
    );
    return { kind: 'eventHubs', namespace: '' };
  }
  return { kind: 'eventHubs', namespace };
}

function readLake(r: Reader, eventHubsNamespace: string | undefined): { lake?: LakeSettings } {
  const uri = r.raw('ArchiveLake__dfsServiceUri');
  if (!uri) return {};
  r.url('ArchiveLake__dfsServiceUri', uri);
  return {
    lake: {
      dfsServiceUri: uri,
      fileSystem: r.string('ArchiveLakeFileSystem', 'capture'),
      captureNamespace: captureNamespaceOf(eventHubsNamespace),
    },
  };
}

/** Spans stay in memory only under the local runtime, which serves them to the trace view. */
const LOCAL_SPAN_CAPACITY = 20_000;

function readTracing(r: Reader): TracingSettings {
  const connectionString = r.raw('APPLICATIONINSIGHTS_CONNECTION_STRING');
  return {
    memorySpans: r.raw('LocalRuntime') === 'true' ? LOCAL_SPAN_CAPACITY : 0,
    ...(connectionString ? { azureMonitorConnectionString: connectionString } : {}),
  };
}

/** Only the dead-letter storage settings, for tools that need nothing else. */
export function parseDeadLetterStorage(env: Env): BlobSettings {
  const r = new Reader(env);
  const settings = readBlob(r, 'DeadLetterStorage__blobServiceUri', 'DeadLetterStorage');
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return settings;
}

function readPrincipalTrust(r: Reader): PrincipalTrust {
  const authEnabled = r.raw('WEBSITE_AUTH_ENABLED');
  const site = r.raw('WEBSITE_SITE_NAME');
  const local = r.raw('LocalRuntime');
  if (local !== undefined && local !== 'true') r.problems.push(`LocalRuntime must be "true" when set, got "${local}".`);
  // App Service writes "True"; the platform's own readers compare without case.
  if (authEnabled?.toLowerCase() === 'true') return { kind: 'appServiceAuthentication' };
  if (site !== undefined) {
    return {
      kind: 'untrusted',
      reason: `The app runs in Azure (WEBSITE_SITE_NAME=${site}) without App Service Authentication (WEBSITE_AUTH_ENABLED is ${authEnabled === undefined ? 'not set' : `"${authEnabled}"`}), so x-ms-client-principal headers could come from any client. Every route but GET /api/health answers 401 until authentication is enabled (infra/README.md).`,
    };
  }
  if (local === 'true') return { kind: 'localRuntime' };
  return {
    kind: 'untrusted',
    reason:
      'Neither App Service Authentication (WEBSITE_AUTH_ENABLED=True) nor the local runtime (LocalRuntime=true, set by npm start) vouches for x-ms-client-principal headers, so they could come from any client. Every route but GET /api/health answers 401.',
  };
}

/** Only the principal trust, for the start-up check (which must not fail on unrelated settings). */
export function parsePrincipalTrust(env: Env): PrincipalTrust {
  return readPrincipalTrust(new Reader(env));
}

export function parseConfig(env: Env): AppConfig {
  const r = new Reader(env);
  const cosmos = readCosmos(r);
  const deadLetter = readBlob(r, 'DeadLetterStorage__blobServiceUri', 'DeadLetterStorage');
  const eventHubsNamespace = r.raw('EventHubConnection__fullyQualifiedNamespace');
  const config: AppConfig = {
    cosmos,
    deadLetter,
    ...(eventHubsNamespace ? { eventHubsNamespace } : {}),
    consumerGroups: {
      ingestion: r.string('TelemetryConsumerGroup', 'ingestion'),
      projector: r.string('ProjectorConsumerGroup', 'projector'),
    },
    ingestion: {
      breaker: {
        failureThreshold: r.int('IngestionBreakerFailureThreshold', 5, 1, 1000),
        openMs: r.int('IngestionBreakerOpenMs', 30_000, 10, 3_600_000),
      },
      writeAttempts: r.int('IngestionWriteAttempts', 4, 1, 20),
    },
    health: { timeoutMs: r.int('HealthCheckTimeoutMs', 2000, 50, 60_000) },
    history: {
      statusViewTtlDays: r.int('StatusViewTtlDays', 30, 1, 3650),
      writeAttempts: r.int('ProjectorWriteAttempts', 4, 1, 20),
      rebuildMaxRangeMs: r.int('RebuildMaxRangeDays', 31, 1, 3660) * 86_400_000,
    },
    principalTrust: readPrincipalTrust(r),
    tracing: readTracing(r),
    publishing: readPublishing(r, eventHubsNamespace),
    ...readLake(r, eventHubsNamespace),
    fleet: {
      droneFreshnessMs: r.int('DroneFreshnessMinutes', 10, 1, 10_080) * 60_000,
      snapshotMs: r.int('FleetSnapshotMs', 1000, 0, 60_000),
    },
    saga: {
      maxInFlight: r.int('SagaMaxInFlight', 1000, 1, 1_000_000),
      pickupSlaMs: r.int('PickupSlaMinutes', 30, 1, 10_080) * 60_000,
      deliverySlaMs: r.int('DeliverySlaMinutes', 120, 1, 10_080) * 60_000,
      assignmentSlaMs: r.int('AssignmentSlaMinutes', 10, 0, 10_080) * 60_000,
      assignmentRetryMs: r.int('AssignmentRetrySeconds', 30, 1, 3600) * 1000,
      stepRetry: {
        attempts: r.int('SagaStepAttempts', 5, 1, 50),
        firstRetryMs: r.int('SagaStepFirstRetryMs', 2000, 10, 600_000),
        maxRetryMs: STEP_MAX_RETRY_MS,
      },
      cruiseSpeedMps: r.int('DroneCruiseSpeedMps', 15, 1, 100),
      handlingSeconds: r.int('DeliveryHandlingSeconds', 60, 0, 3600),
      maxPickupDistanceKm: r.int('DroneMaxPickupDistanceKm', 25, 1, 1000),
      agentParallelism: r.int('AgentParallelism', 8, 1, 256),
      supervisorGraceMs: r.int('SupervisorGraceMinutes', 5, 0, 1440) * 60_000,
    },
  };
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
