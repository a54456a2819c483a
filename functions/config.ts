/**
 * Settings, read once from the environment into a typed, frozen object. Every missing or
 * malformed setting is named in one error, so a misconfigured app fails at its first
 * invocation with the whole list instead of one setting at a time.
 *
 * Connections follow the platform's identity-based convention (`<Name>__accountEndpoint`,
 * `<Name>__blobServiceUri`, …). Keys and connection strings are accepted only for emulators
 * on loopback: in Azure every data-plane call uses the managed identity.
 */

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
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n- ${problems.join('\n- ')}`);
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
  readonly where: 'app' | 'emulator';
}

export const SETTINGS = {
  CosmosConnection__accountEndpoint: { where: 'app', description: 'Cosmos DB account endpoint (https://<account>.documents.azure.com:443/).' },
  CosmosConnection__accountKey: { where: 'emulator', description: 'Emulator key; accepted only with a loopback endpoint. Never set in Azure.' },
  CosmosDatabaseName: { where: 'app', description: 'Cosmos DB database name. Default: drone-delivery.' },
  DeadLetterStorage__blobServiceUri: { where: 'app', description: 'Blob endpoint holding the deadletter container (identity-based).' },
  DeadLetterStorage: { where: 'emulator', description: 'Connection string for the dead-letter blob account; accepted only for a loopback emulator.' },
  EventHubConnection__fullyQualifiedNamespace: { where: 'app', description: 'Event Hubs namespace host name, used by the triggers and publishers.' },
  TelemetryConsumerGroup: { where: 'app', description: 'Consumer group of the telemetry ingestion trigger. Default: ingestion.' },
  ProjectorConsumerGroup: { where: 'app', description: 'Consumer group of the delivery-events projector. Default: projector.' },
  IngestionBreakerFailureThreshold: { where: 'app', description: 'Consecutive transient store failures that open the ingestion breaker. Default: 5.' },
  IngestionBreakerOpenMs: { where: 'app', description: 'How long the breaker stays open before one trial call. Default: 30000.' },
  IngestionWriteAttempts: { where: 'app', description: 'Attempts per drone write within one invocation. Default: 4.' },
  HealthCheckTimeoutMs: { where: 'app', description: 'Timeout of each dependency check of GET /api/health. Default: 2000.' },
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
  const database = r.string('CosmosDatabaseName', 'drone-delivery');
  if (endpoint) {
    const url = r.url('CosmosConnection__accountEndpoint', endpoint);
    if (url && key && !isLoopback(url)) {
      r.problems.push('CosmosConnection__accountKey is accepted only for a loopback emulator; in Azure the app uses its managed identity.');
    }
    if (url && !key && url.protocol !== 'https:') {
      r.problems.push('CosmosConnection__accountEndpoint must be https unless it is a loopback emulator with CosmosConnection__accountKey.');
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
      r.problems.push(`${connName} (a connection string) is accepted only for a loopback emulator with an explicit BlobEndpoint; in Azure set ${uriName}.`);
    }
    return { kind: 'connectionString', connectionString: conn };
  }
  r.problems.push(`${uriName} is missing: ${SETTINGS[uriName].description}`);
  return { kind: 'identity', serviceUri: '' };
}

/** Only the dead-letter storage settings, for tools that need nothing else. */
export function parseDeadLetterStorage(env: Env): BlobSettings {
  const r = new Reader(env);
  const settings = readBlob(r, 'DeadLetterStorage__blobServiceUri', 'DeadLetterStorage');
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return settings;
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
