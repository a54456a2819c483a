/**
 * The one declaration of what infrastructure provides: Cosmos containers with their partition
 * keys, blob containers, hubs with their consumer groups, and the lake file system. Bicep
 * (infra/), the local runtime and the test harness all create or check against this list;
 * nothing on a hot path creates resources.
 */
import { CONSUMER_GROUP_SETTINGS, HUBS } from './names';

/** The Cosmos DB database infrastructure creates (CosmosDatabaseName's default). */
export const COSMOS_DATABASE = 'drone-delivery';

export interface CosmosContainerDecl {
  readonly name: string;
  readonly partitionKey: string;
  /** -1 enables per-item TTL with no default expiry; undefined leaves TTL off. */
  readonly defaultTtl?: number;
  readonly purpose: string;
}

export const COSMOS_CONTAINERS = {
  drones: { name: 'drones', partitionKey: '/id', purpose: 'Latest known state per drone (telemetry ingestion).' },
  intakes: {
    name: 'intakes',
    partitionKey: '/id',
    purpose: 'One record per requested delivery id: owner and canonical request (idempotent intake).',
  },
  packages: { name: 'packages', partitionKey: '/id', purpose: 'Package agent: one package per delivery.' },
  droneReservations: {
    name: 'droneReservations',
    partitionKey: '/id',
    purpose: 'Drone scheduler agent: at most one reservation per drone (id = droneId).',
  },
  deliveries: { name: 'deliveries', partitionKey: '/id', purpose: 'Delivery agent: the schedule (ETAs) per delivery.' },
  deliveryEvents: {
    name: 'deliveryEvents',
    partitionKey: '/deliveryId',
    purpose: 'Event store: one document per delivery event, unique per (deliveryId, sequence).',
  },
  deliveryStatus: {
    name: 'deliveryStatus',
    partitionKey: '/id',
    defaultTtl: -1,
    purpose: 'Materialized status view; finished deliveries expire by per-item TTL.',
  },
} as const satisfies Record<string, CosmosContainerDecl>;

export interface BlobContainerDecl {
  readonly name: string;
  readonly purpose: string;
}

/**
 * Blob containers of the host storage account (AzureWebJobsStorage), where the app already
 * holds the blob role the Functions host needs: the lake stays read-only to the app.
 */
export const BLOB_CONTAINERS = {
  deadLetter: {
    name: 'deadletter',
    purpose: 'Poison events with reason and Event Hubs metadata (host storage account).',
  },
} as const satisfies Record<string, BlobContainerDecl>;

/** Data Lake file systems: Capture writes the full delivery events here (archive, rebuilds). */
export const LAKE_FILE_SYSTEMS = {
  capture: { name: 'capture', purpose: 'Event Hubs Capture of delivery-events, Avro, forever.' },
} as const satisfies Record<string, BlobContainerDecl>;

export interface EventHubDecl {
  readonly name: string;
  readonly partitionKey: string;
  /** Consumer group name and the app setting that carries it. */
  readonly consumerGroups: readonly { readonly name: string; readonly setting: string }[];
  readonly capture: boolean;
  /** Partitions per deployment profile in Azure (fixed once the hub exists on Standard); default 2. */
  readonly partitionCount?: { readonly dev: number; readonly prod: number };
}

export const EVENT_HUBS: readonly EventHubDecl[] = [
  {
    name: HUBS.telemetry,
    partitionKey: 'droneId',
    consumerGroups: [{ name: 'ingestion', setting: CONSUMER_GROUP_SETTINGS.ingestion }],
    capture: false,
    partitionCount: { dev: 2, prod: 32 },
  },
  {
    name: HUBS.deliveryEvents,
    partitionKey: 'deliveryId',
    consumerGroups: [{ name: 'projector', setting: CONSUMER_GROUP_SETTINGS.projector }],
    capture: true,
    partitionCount: { dev: 2, prod: 16 },
  },
];

export function allCosmosContainers(): CosmosContainerDecl[] {
  return Object.values(COSMOS_CONTAINERS);
}

export function allBlobContainers(): BlobContainerDecl[] {
  return Object.values(BLOB_CONTAINERS);
}
