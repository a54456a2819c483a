/**
 * The composition root: the one place SDK clients and adapters are built, lazily and once per
 * instance (never per invocation). Function files ask it for ports; nothing else constructs an
 * SDK client. Identity-based connections in Azure, emulator endpoints locally.
 */
import { CosmosClient } from '@azure/cosmos';
import type { Container, Database } from '@azure/cosmos';
import { DefaultAzureCredential } from '@azure/identity';
import type { TokenCredential } from '@azure/identity';
import { BlobServiceClient } from '@azure/storage-blob';
import type { ContainerClient } from '@azure/storage-blob';
import { isLoopback, parseConfig } from './config';
import { AnonymousCredential, DataLakeServiceClient } from '@azure/storage-file-datalake';
import { CaptureArchive } from './adapters/capture-archive';
import { CaptureDeliveryArchive } from './adapters/archive-delivery-events';
import { HUBS } from './names';
import type { AppConfig, BlobSettings, CosmosSettings } from './config';
import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import type { DroneStateStore, MilestoneSink } from '../domain/telemetry/ports';
import type { SlaSettings } from '../domain/delivery/saga';
import { BlobDeadLetterSink } from './adapters/blob-dead-letters';
import {
  CosmosDeliverySchedules,
  CosmosFleetView,
  CosmosIntakeRecords,
  CosmosPackageRecords,
} from './adapters/cosmos-agents';
import { CosmosDroneReservations } from './adapters/cosmos-reservations';
import { AzureEventHubsPublisher, LocalRuntimePublisher } from './adapters/event-publishers';
import { Bulkhead } from './resilience/bulkhead';
import type { AgentDeps } from './saga/agents';
import type { StatusQueryDeps } from './history/status-queries';
import { CosmosDroneStateStore } from './adapters/cosmos-drone-store';
import { DurableMilestoneSink } from './adapters/durable-milestones';
import { fromAssignedDrone } from './telemetry/assigned-milestones';
import { CircuitBreaker } from './resilience/circuit-breaker';
import type { RetryPolicy } from '../domain/shared/retry';
import { BLOB_CONTAINERS, COSMOS_CONTAINERS } from './resources';
import type { CosmosContainerDecl } from './resources';
import type { ArchiveReader, DeliveryEventStore, IntakeRecords, StatusViewStore } from '../domain/delivery/ports';
import { CosmosDeliveryEventStore } from './adapters/cosmos-event-store';
import { CosmosStatusViewStore } from './adapters/cosmos-status-view-store';
import type { HistoryDeps } from './history/project';
import type { DeadLetterSink, EventPublisher } from '../domain/shared/ports';
import { startTracing } from './tracing/bootstrap';
import type { Tracing } from './tracing/bootstrap';
import { CosmosFleetListing, CosmosStatusViewListing } from './adapters/cosmos-ops-listings';
import { BlobDeadLetterArchive } from './adapters/blob-dead-letter-archive';
import { AZURE_HUB_LAG_UNAVAILABLE, LocalRuntimeHubPositions, UnavailableHubPositions } from './adapters/hub-positions';
import type { OpsDeps } from './ops/ops-queries';

function lazy<T>(make: () => T): () => T {
  let value: T | undefined;
  let made = false;
  return () => {
    if (!made) {
      value = make();
      made = true;
    }
    return value as T;
  };
}

export function blobServiceFrom(settings: BlobSettings, credential: () => TokenCredential): BlobServiceClient {
  return settings.kind === 'connectionString'
    ? BlobServiceClient.fromConnectionString(settings.connectionString)
    : new BlobServiceClient(settings.serviceUri, credential());
}

/**
 * The emulator advertises https locations it does not serve; endpoint discovery stays off for it
 * so every call goes to the endpoint we were given.
 */
export function cosmosClientFrom(settings: CosmosSettings, credential: () => TokenCredential): CosmosClient {
  const { endpoint, emulatorKey } = settings;
  return emulatorKey
    ? new CosmosClient({ endpoint, key: emulatorKey, connectionPolicy: { enableEndpointDiscovery: false } })
    : new CosmosClient({ endpoint, aadCredentials: credential() });
}

export class Composition {
  readonly credential = lazy<TokenCredential>(() => new DefaultAzureCredential());

  /**
   * Started with the composition, not lazily: a trigger opens its span right after asking for
   * the composition, and spans started before the exporters are attached would be lost.
   */
  readonly tracing: Tracing;

  constructor(readonly config: AppConfig) {
    this.tracing = startTracing(config.tracing, this.credential);
  }

  /** Wall-clock milliseconds: what instance-local caches age by and what the intake stamps requests with (a simulation runs them on its own clock). */
  wallClock(): number {
    return Date.now();
  }

  readonly cosmos = lazy(() => cosmosClientFrom(this.config.cosmos, this.credential));

  readonly database = lazy<Database>(() => this.cosmos().database(this.config.cosmos.database));

  private readonly containers = new Map<string, Container>();
  container(decl: CosmosContainerDecl): Container {
    let c = this.containers.get(decl.name);
    if (!c) {
      c = this.database().container(decl.name);
      this.containers.set(decl.name, c);
    }
    return c;
  }

  // ── Telemetry ingestion ──────────────────────────────────────────────────────────────
  /** One breaker per instance, shared by every invocation and partition. */
  readonly ingestionBreaker = lazy(
    () =>
      new CircuitBreaker('cosmos-drones', this.config.ingestion.breaker, Date.now, {
        onStateChange: (from, to) =>
          console.warn(JSON.stringify({ event: 'breaker.transition', breaker: 'cosmos-drones', from, to })),
      }),
  );

  readonly droneStore = lazy<DroneStateStore>(
    () => new CosmosDroneStateStore(this.container(COSMOS_CONTAINERS.drones)),
  );

  /**
   * Ingestion's own store: reads answered from this instance's last writes (bounded LRU), so a
   * drone costs one conditional write per batch in steady state. Not for status queries, which
   * must see other instances' writes.
   */
  readonly ingestionDroneStore = lazy<DroneStateStore>(
    () => new CosmosDroneStateStore(this.container(COSMOS_CONTAINERS.drones), { cachedReads: true, bulkWrites: true }),
  );

  readonly deadLetters = lazy<DeadLetterSink>(() => new BlobDeadLetterSink(this.deadLetterContainer()));

  get ingestionRetry(): RetryPolicy {
    return { attempts: this.config.ingestion.writeAttempts, firstRetryMs: 100, maxRetryMs: 2000 };
  }

  /**
   * Per invocation: the durable client comes from the invocation's input binding, built only when
   * a milestone needs it; a milestone is raised only while its drone is reserved for its delivery.
   */
  milestones(context: InvocationContext): MilestoneSink {
    return fromAssignedDrone(
      new DurableMilestoneSink(
        lazy(() => df.getClient(context)),
        (m) => context.warn(m),
      ),
      this.agents().reservations,
      (entry) => context.warn(JSON.stringify(entry)),
    );
  }

  // ── Delivery saga: intake, agents, event publishing ──────────────────────────────────
  readonly intakes = lazy<IntakeRecords>(() => new CosmosIntakeRecords(this.container(COSMOS_CONTAINERS.intakes)));

  /** Sagas in flight, counted from open intakes, cached for a second so a burst of requests costs one query. */
  private inFlightCache: { at: number; value: Promise<number> } | undefined;
  inFlightSagas(): Promise<number> {
    const now = Date.now();
    if (!this.inFlightCache || now - this.inFlightCache.at > 1000) {
      const value = this.intakes().countActive();
      value.catch(() => (this.inFlightCache = undefined));
      this.inFlightCache = { at: now, value };
    }
    return this.inFlightCache.value;
  }

  get sagaSla(): SlaSettings {
    const s = this.config.saga;
    return {
      pickupSlaMs: s.pickupSlaMs,
      deliverySlaMs: s.deliverySlaMs,
      assignmentSlaMs: s.assignmentSlaMs,
      assignmentRetryMs: s.assignmentRetryMs,
    };
  }

  /** Shared by every activity of the instance: bounds the store requests its agents make at once (a bulkhead). */
  readonly agentBulkhead = lazy(() => new Bulkhead(this.config.saga.agentParallelism));

  readonly agents = lazy<AgentDeps>(() => {
    // How long one answer of the fleet query, and one of the held-drones query, serves assignments.
    const snapshot = { snapshotMs: this.config.fleet.snapshotMs, now: () => this.wallClock() };
    return {
      packages: new CosmosPackageRecords(this.container(COSMOS_CONTAINERS.packages)),
      reservations: new CosmosDroneReservations(this.container(COSMOS_CONTAINERS.droneReservations), snapshot),
      fleet: new CosmosFleetView(this.container(COSMOS_CONTAINERS.drones), snapshot),
      schedules: new CosmosDeliverySchedules(this.container(COSMOS_CONTAINERS.deliveries)),
      cruiseSpeedMps: this.config.saga.cruiseSpeedMps,
      handlingSeconds: this.config.saga.handlingSeconds,
      maxPickupDistanceM: this.config.saga.maxPickupDistanceKm * 1000,
      droneFreshnessMs: this.config.fleet.droneFreshnessMs,
    };
  });

  /** Publishes with a partition key: Event Hubs (SDK, managed identity) in Azure, the local runtime's endpoint locally. */
  readonly publisher = lazy<EventPublisher>(() => {
    const p = this.config.publishing;
    return p.kind === 'localRuntime'
      ? new LocalRuntimePublisher(p.endpoint)
      : new AzureEventHubsPublisher(p.namespace, this.credential());
  });

  readonly deadLetterBlobService = lazy(() => blobServiceFrom(this.config.deadLetter, this.credential));
  readonly deadLetterContainer = lazy<ContainerClient>(() =>
    this.deadLetterBlobService().getContainerClient(BLOB_CONTAINERS.deadLetter.name),
  );

  // ── Delivery history: event store, status view, projector, rebuild ───────────────────
  readonly deliveryEventStore = lazy<DeliveryEventStore>(
    () => new CosmosDeliveryEventStore(this.container(COSMOS_CONTAINERS.deliveryEvents)),
  );

  readonly statusViews = lazy<StatusViewStore>(
    () => new CosmosStatusViewStore(this.container(COSMOS_CONTAINERS.deliveryStatus)),
  );

  get statusQueryDeps(): StatusQueryDeps {
    return {
      views: this.statusViews(),
      events: this.deliveryEventStore(),
      drones: this.droneStore(),
      reservations: this.agents().reservations,
      droneFreshnessMs: this.config.fleet.droneFreshnessMs,
      now: () => new Date(),
    };
  }

  get historyDeps(): HistoryDeps {
    return {
      events: this.deliveryEventStore(),
      views: this.statusViews(),
      retry: { attempts: this.config.history.writeAttempts, firstRetryMs: 100, maxRetryMs: 2000 },
      statusViewTtlSeconds: this.config.history.statusViewTtlDays * 86_400,
    };
  }

  // ── Operations console: list reads, dead-letter replay, hub positions ────────────────
  readonly opsDeps = lazy<OpsDeps>(() => {
    const s = this.config.saga;
    const p = this.config.publishing;
    return {
      fleet: new CosmosFleetListing(this.container(COSMOS_CONTAINERS.drones)),
      views: new CosmosStatusViewListing(this.container(COSMOS_CONTAINERS.deliveryStatus)),
      deadLetters: new BlobDeadLetterArchive(this.deadLetterContainer(), this.publisher),
      hubs:
        p.kind === 'localRuntime'
          ? new LocalRuntimeHubPositions(p.endpoint)
          : new UnavailableHubPositions(AZURE_HUB_LAG_UNAVAILABLE),
      intakes: this.intakes(),
      sla: {
        assignmentSlaMs: s.assignmentSlaMs,
        pickupSlaMs: s.pickupSlaMs,
        deliverySlaMs: s.deliverySlaMs,
        supervisorGraceMs: s.supervisorGraceMs,
      },
      droneFreshnessMs: this.config.fleet.droneFreshnessMs,
      now: () => new Date(),
    };
  });

  /**
   * The archive views are rebuilt from. Undefined until the lake's file-system client is wired
   * here (adapters/archive-delivery-events.ts reads delivery events off a CaptureArchive); the
   * rebuild endpoint answers 503 meanwhile, and tests substitute their own reader. `observe`
   * wraps the Capture reader (the report's progress counts files through it).
   */
  archiveReader(
    observe?: (capture: Pick<CaptureArchive, 'events'>) => Pick<CaptureArchive, 'events'>,
  ): ArchiveReader | undefined {
    const lake = this.config.lake;
    if (!lake) return undefined;
    const capture = new CaptureArchive(this.lakeFileSystem());
    return new CaptureDeliveryArchive(
      observe ? observe(capture) : capture,
      lake.captureNamespace,
      HUBS.deliveryEvents,
      (skipped) => console.warn(JSON.stringify({ event: 'rebuild.skipped', ...skipped })),
    );
  }

  /**
   * The lake's file system: by managed identity in Azure; anonymously against the local lake
   * endpoint, which serves loopback only and checks no signature.
   */
  readonly lakeFileSystem = lazy(() => {
    const lake = this.config.lake;
    if (!lake) throw new Error('ArchiveLake__dfsServiceUri is not set: the archive is not configured.');
    const local = isLoopback(new URL(lake.dfsServiceUri));
    const service = local
      ? new DataLakeServiceClient(lake.dfsServiceUri, new AnonymousCredential())
      : new DataLakeServiceClient(lake.dfsServiceUri, this.credential());
    return service.getFileSystemClient(lake.fileSystem);
  });
}

let current: Composition | undefined;

/** The instance's composition, built from the environment on first use. */
export function composition(): Composition {
  current ??= new Composition(parseConfig(process.env));
  return current;
}

/** For tests and the local runtime: rebuild from the (changed) environment on next use. */
export function resetComposition(next?: Composition): void {
  current = next;
}
