/**
 * `npm run bench:ingest`: ingestion figures from one run, each beside its baseline.
 *  1. Handler CPU efficiency: events/s through the ingestion use case (decode, validate,
 *     coalesce, plan; ports in memory) ÷ bare JSON.parse events/s on the same bodies.
 *  2. Cosmos writes per batch ÷ distinct drones per batch, through the real adapter against the
 *     Cosmos DB stand-in, and request units per event.
 *  3. Validator ops/s: TypeBox's compiled check (ours) beside Ajv compiled from the same schema.
 * `--quick` runs each measurement briefly (a smoke check, not a measurement).
 */
import Ajv from 'ajv';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Composition } from '../../functions/composition';
import { parseConfig } from '../../functions/config';
import { CircuitBreaker } from '../../functions/resilience/circuit-breaker';
import { ingestBatch } from '../../functions/telemetry/ingest';
import { forEachBounded } from '../../functions/resilience/retry';
import { COSMOS_CONTAINERS } from '../../functions/resources';
import { CosmosDroneStateStore } from '../../functions/adapters/cosmos-drone-store';
import { TelemetrySchema, validateTelemetry } from '../../domain/telemetry/schema';
import type { Telemetry } from '../../domain/telemetry/schema';
import { stateFromTelemetry } from '../../domain/telemetry/drone-state';
import type { DroneState } from '../../domain/telemetry/drone-state';
import type { DroneStateStore, VersionedDroneState } from '../../domain/telemetry/ports';
import { provisionCosmos } from '../local/fabrikam';
import { startCosmos } from '@fabrikam/functions-local';
import { hostBatchSize } from './app';
import { opsPerSecond, printTable, sideBySide } from './harness';
import type { Row } from './harness';
import type { EventOrigin } from '../../domain/shared/ports';

export interface BenchOptions {
  readonly quick: boolean;
}

function bodies(count: number, drones: number, seed = 1): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const t: Telemetry = {
      schemaVersion: 1,
      droneId: `drone-${(i * 7 + seed) % drones}`,
      sequence: seed * 1_000_000 + i,
      timestamp: new Date(Date.UTC(2026, 10, 22, 10, 0, 0, i)).toISOString(),
      position: { lat: 47.6 + (i % 100) / 1000, lon: -122.1 - (i % 50) / 1000, altitudeM: 100 + (i % 20) },
      batteryPct: 90 - (i % 60),
      speedMps: 12.5,
      status: i % 5 === 0 ? 'EnRouteToDropoff' : 'Idle',
      ...(i % 5 === 0 ? { deliveryId: `d-${i % drones}` } : {}),
    };
    out.push(JSON.stringify(t));
  }
  return out;
}

class MemoryStore implements DroneStateStore {
  private readonly docs = new Map<string, VersionedDroneState>();
  private v = 0;
  async read(id: string): Promise<VersionedDroneState | undefined> {
    return this.docs.get(id);
  }
  async write(next: DroneState, expected: string | undefined): Promise<boolean> {
    if (this.docs.get(next.droneId)?.version !== expected) return false;
    this.docs.set(next.droneId, { state: next, version: String(++this.v) });
    return true;
  }
}

const noOrigins = (n: number): EventOrigin[] => Array.from({ length: n }, () => ({ eventHubName: 'telemetry' }));

export async function benchIngest(opts: BenchOptions): Promise<Row[]> {
  const ms = opts.quick ? 40 : 400;
  const rounds = opts.quick ? 1 : 5;
  const rows: Row[] = [];
  const breaker = new CircuitBreaker('bench', { failureThreshold: 5, openMs: 1000 });
  const deps = (store: DroneStateStore) => ({
    store,
    deadLetters: { put: async () => undefined },
    milestones: { raise: async () => undefined },
    breaker,
    retry: { attempts: 1, firstRetryMs: 1, maxRetryMs: 1 },
    now: () => new Date(),
  });

  for (const size of [100, 1000]) {
    const batch = bodies(size, 50);
    const origins = noOrigins(size);
    const store = new MemoryStore();
    const r = await sideBySide(
      () => opsPerSecond(() => ingestBatch(batch, origins, deps(store)), size, ms),
      () =>
        opsPerSecond(
          () => {
            for (const b of batch) JSON.parse(b);
          },
          size,
          ms,
        ),
      rounds,
    );
    const ratio = r.ours / r.baseline;
    rows.push({
      metric: `ingest handler CPU, batch ${size}`,
      ours: r.ours,
      baseline: r.baseline,
      ratio,
      target: '>= 0.5',
      unit: 'events/s vs JSON.parse events/s',
      // Why a miss happens is known: say it beside the figure rather than leave a bare number.
      ...(ratio < 0.5
        ? {
            note: `target missed: each event is parsed, schema-checked (compiled check plus two patterns and a calendar check) and folded into its drone's plan, and each batch pays a fixed cost (breaker, retry wrapper, coalescing maps, promise chain) that ${size} events amortize ${size < 1000 ? 'less well than 1000 do' : 'only partly'}; bare JSON.parse does none of it`,
          }
        : {}),
    });
  }

  // Validators on the same schema and parsed bodies: the compiled checks alone, then ours whole
  // (compiled check plus the calendar check) beside the bare check.
  const parsed = bodies(1000, 50).map((b) => JSON.parse(b) as unknown);
  const typebox = TypeCompiler.Compile(TelemetrySchema);
  const ajv = new Ajv({ strict: false, allErrors: false }).compile(
    JSON.parse(JSON.stringify(TelemetrySchema)) as object,
  );
  const each = (check: (p: unknown) => unknown) => () =>
    opsPerSecond(
      () => {
        for (const p of parsed) check(p);
      },
      parsed.length,
      ms,
    );
  const v = await sideBySide(
    each((p) => typebox.Check(p)),
    each((p) => ajv(p)),
    rounds,
  );
  rows.push({
    metric: 'validator: TypeBox compiled vs Ajv',
    ours: v.ours,
    baseline: v.baseline,
    ratio: v.ours / v.baseline,
    target: '>= 1 (fastest)',
    unit: 'validations/s',
  });
  const w = await sideBySide(
    each(validateTelemetry),
    each((p) => typebox.Check(p)),
    rounds,
  );
  rows.push({
    metric: 'validateTelemetry vs its bare compiled check',
    ours: w.ours,
    baseline: w.baseline,
    ratio: w.ours / w.baseline,
    target: 'info',
    unit: 'validations/s',
  });

  // Cosmos writes per batch against the stand-in, through the real adapter.
  const cosmos = await startCosmos();
  try {
    const config = parseConfig({
      CosmosConnection__accountEndpoint: cosmos.endpoint,
      CosmosConnection__accountKey: cosmos.key,
      CosmosDatabaseName: 'bench',
      DeadLetterStorage__blobServiceUri: 'http://127.0.0.1:1/unused',
      LocalEventHubsEndpoint: 'http://127.0.0.1:9',
    });
    const comp = new Composition(config);
    await provisionCosmos(comp.cosmos(), 'bench');
    let writes = 0;
    let reads = 0;
    let charge = 0;
    // Ingestion's own store, as the composition builds it: reads from its LRU of last writes.
    const store = new CosmosDroneStateStore(comp.container(COSMOS_CONTAINERS.drones), {
      cachedReads: true,
      bulkWrites: true,
      onRequest: (kind, rc) => {
        if (kind === 'write') writes++;
        else reads++;
        charge += rc;
      },
    });
    const batches = opts.quick ? 2 : 10;
    // Full batches, as the trigger hands them when events are waiting: host.json's size, from a
    // partition whose telemetry comes from 20 drones.
    const size = hostBatchSize();
    const fleet = 20;
    // A first batch meets every drone cold (one read each); the figures are for the steady state after it.
    await ingestBatch(bodies(size, fleet, 0), noOrigins(size), deps(store));
    writes = 0;
    reads = 0;
    charge = 0;
    let distinct = 0;
    let events = 0;
    for (let i = 0; i < batches; i++) {
      const batch = bodies(size, fleet, i + 1);
      distinct += new Set(batch.map((b) => (JSON.parse(b) as Telemetry).droneId)).size;
      events += batch.length;
      await ingestBatch(batch, noOrigins(batch.length), deps(store));
    }
    const docBytes = 420;
    const writeRu = 5 * Math.max(1, docBytes / 1024);
    const requests = reads + writes;
    const modelled = (writes * writeRu + reads * 1) / events;
    rows.push({
      metric: 'Cosmos requests per batch / distinct drones (steady state)',
      ours: requests / batches,
      baseline: distinct / batches,
      ratio: requests / distinct,
      target: '<= 1.1',
      unit: 'requests per batch (reads + writes)',
      note: `${reads} reads and ${writes} conditional writes over ${batches} batches of ${size} events from ${fleet} drones, after one warm-up batch; before the instance-local ETag cache every drone cost a read and a write (2.0)`,
    });
    const perEventNaive = writeRu + 1;
    const ruTarget = 0.7;
    // The same model where the fleet is large beside a batch: the load-levelling burst's 1,000
    // drones over 4 partitions, whose full batches hold each of a partition's ~250 drones size/250 times.
    const perPartition = 1000 / 4;
    const burstPerDrone = size / Math.min(perPartition, size);
    rows.push({
      metric: 'request units per event (modelled)',
      ours: modelled,
      baseline: ruTarget,
      ratio: modelled / ruTarget,
      target: '<= 1 (0.7 RU/event)',
      unit: 'RU/event vs the 0.7 RU/event target',
      note: `${modelled <= ruTarget ? 'target met' : 'target missed'} for full batches of ${size} from ${fleet} drones: one conditional write per drone per batch, so RU/event is ~${writeRu} RU ÷ events per drone per batch (here ${(events / Math.max(1, writes)).toFixed(0)}); it was 1.2 with a read per drone and 1.0 with batches of 100; one read + write per event would be ${perEventNaive} RU/event. The figure is the workload's as much as ours: a fleet large beside the batch (1,000 drones over 4 partitions, ${burstPerDrone.toFixed(0)} events per drone per batch) costs ${(writeRu / burstPerDrone).toFixed(2)} RU/event, and 0.7 needs 7+ events per drone per batch. The stand-in's request charge (${(charge / Math.max(1, requests)).toFixed(2)} per operation) is not Cosmos DB's pricing, so RU are modelled from Cosmos DB's published figures: ~1 RU per point read, ~5 RU per write of a document up to 1 KB (ours: ~${docBytes} bytes)`,
    });
    rows.push(...(await drainCurve(comp, opts, deps)));
  } finally {
    await cosmos.stop();
  }
  return rows;
}

/**
 * Ingestion drain rate through the real adapter on the stand-in at 100 and at 10,000 drones: the
 * same events in batches of 100, each drone warmed once first (steady state). With more drones
 * than events per batch, coalescing has less to merge, so the slope says what fleet size costs.
 */
async function drainCurve(
  comp: Composition,
  opts: BenchOptions,
  deps: (store: DroneStateStore) => Parameters<typeof ingestBatch>[2],
): Promise<Row[]> {
  const fleets = opts.quick ? [20, 200] : [100, 10_000];
  const total = opts.quick ? 400 : 5_000;
  const rate = async (fleet: number): Promise<number> => {
    const store = new CosmosDroneStateStore(comp.container(COSMOS_CONTAINERS.drones), {
      cachedReads: true,
      bulkWrites: true,
    });
    // Each drone's first state written straight through the store (one create, remembered), so
    // the warm-up costs one request per drone rather than ingestion's cold read plus create.
    const warm = bodies(fleet, fleet, 7000 + fleet).map((b) =>
      stateFromTelemetry(JSON.parse(b.replace(/"drone-/, `"fleet${fleet}-drone-`)) as Telemetry),
    );
    await forEachBounded(warm, 16, async (state) => void (await store.write(state, undefined)));
    const work = bodies(total, fleet, 8000 + fleet).map((b) => b.replace(/"drone-/, `"fleet${fleet}-drone-`));
    const started = process.hrtime.bigint();
    for (let i = 0; i < work.length; i += 100)
      await ingestBatch(work.slice(i, i + 100), noOrigins(Math.min(100, work.length - i)), deps(store));
    return work.length / (Number(process.hrtime.bigint() - started) / 1e9);
  };
  const small = await rate(fleets[0] as number);
  const large = await rate(fleets[1] as number);
  return [
    {
      metric: `scale: ingestion drain at ${fleets[1]} vs ${fleets[0]} drones`,
      ours: large,
      baseline: small,
      ratio: large / small,
      target: 'info',
      unit: 'events/s (ingestBatch, cached adapter, stand-in)',
      note: `${total.toLocaleString('en-US')} events in batches of 100 after each drone was seen once; a batch of 100 from ${fleets[0]} drones touches ~${Math.round((fleets[0] as number) * (1 - Math.pow(1 - 1 / (fleets[0] as number), 100)))} of them, from ${fleets[1]} ~100: one conditional write per distinct drone per batch`,
    },
  ];
}

if (require.main === module) {
  const quick = process.argv.includes('--quick');
  console.log(
    `bench:ingest on Node ${process.version}, ${quick ? 'quick smoke run' : 'median of 5 interleaved rounds'}`,
  );
  benchIngest({ quick }).then(
    (rows) => printTable(rows),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
