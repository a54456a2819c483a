/**
 * `npm run simulate -- --drones N --deliveries M --rate R [options]`: a drone fleet and its
 * customers against the pipeline, locally (`npm start`) or in Azure. Drones register by telemetry
 * (Idle, battery high, around Seattle); customers request deliveries over HTTP; the simulator
 * polls each delivery until a drone is assigned, then flies that drone (EnRouteToPickup →
 * PickedUp → EnRouteToDropoff → Delivered → Returning → Idle) with rising sequence numbers and
 * positions moving along the way, in scaled time. Duplicates, reordering and poison events can be
 * injected. It ends with a summary: outcomes, request→delivered latency, dead letters.
 *
 * Azure (`--target azure`): telemetry goes to Event Hubs with `@azure/event-hubs` and
 * DefaultAzureCredential (the signed-in identity needs "Azure Event Hubs Data Sender" on the
 * namespace); HTTP calls carry a bearer token for `--scope` (the function app's Entra ID
 * application, e.g. `api://<client-id>/.default`), which App Service Authentication validates and
 * turns into the principal headers. Deliveries are then owned by that identity.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DefaultAzureCredential } from '@azure/identity';
import { BlobServiceClient } from '@azure/storage-blob';
import { AzureEventHubsPublisher, LocalRuntimePublisher } from '../functions/adapters/event-publishers';
import type { EventPublisher, OutgoingEvent } from '../functions/adapters/event-publishers';
import { principalHeaders } from '../functions/http/identity';
import { BLOB_CONTAINERS } from '../functions/resources';

const USAGE = `Usage: npm run simulate -- [options]
  --drones <n>          Drones in the fleet (default 10)
  --deliveries <n>      Deliveries to request (default 20)
  --rate <r>            Delivery requests per second (default 2)
  --target local|azure  Where the pipeline runs (default local)
  --url <base url>      The HTTP API's base (default http://127.0.0.1:7071 locally; required for azure)
  --namespace <fqdn>    Event Hubs namespace (azure), e.g. myns.servicebus.windows.net
  --scope <scope>       Token scope for the HTTP API (azure), e.g. api://<app-client-id>/.default
  --duplicates <p>      Probability that a telemetry event is sent twice (default 0)
  --reorder <p>         Probability that an in-flight position report is delivered after the next one (default 0)
  --poison <p>          Probability that a poison event is sent beside a telemetry event (default 0)
  --speedup <x>         Flight time scale (default 60: a 6-minute flight takes 6 s)
  --interval <ms>       Real milliseconds between a flying drone's reports (default 250)
  --timeout <s>         Give up on deliveries still open after this long (default 300)
  --data-dir <dir>      The local runtime's data directory, to count dead letters (default .data)
  --seed <n>            Random seed (default: time)`;

interface Options {
  readonly drones: number;
  readonly deliveries: number;
  readonly rate: number;
  readonly target: 'local' | 'azure';
  readonly url: string;
  readonly namespace?: string;
  readonly scope?: string;
  readonly duplicates: number;
  readonly reorder: number;
  readonly poison: number;
  readonly speedup: number;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly dataDir: string;
  readonly seed: number;
}

function num(value: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number in [${min}, ${max}], got "${value}".`);
  return n;
}

export function parseOptions(argv: readonly string[]): Options | 'help' {
  const { values: v } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      drones: { type: 'string' },
      deliveries: { type: 'string' },
      rate: { type: 'string' },
      target: { type: 'string' },
      url: { type: 'string' },
      namespace: { type: 'string' },
      scope: { type: 'string' },
      duplicates: { type: 'string' },
      reorder: { type: 'string' },
      poison: { type: 'string' },
      speedup: { type: 'string' },
      interval: { type: 'string' },
      timeout: { type: 'string' },
      'data-dir': { type: 'string' },
      seed: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help) return 'help';
  const target = v.target ?? 'local';
  if (target !== 'local' && target !== 'azure') throw new Error('--target must be local or azure.');
  if (target === 'azure' && (!v.url || !v.namespace || !v.scope)) throw new Error('--target azure needs --url, --namespace and --scope.');
  const port = process.env.PORT && process.env.PORT !== '' ? process.env.PORT : '7071';
  return {
    drones: num(v.drones, 'drones', 10, 1, 10_000),
    deliveries: num(v.deliveries, 'deliveries', 20, 0, 1_000_000),
    rate: num(v.rate, 'rate', 2, 0.01, 10_000),
    target,
    url: (v.url ?? `http://127.0.0.1:${port}`).replace(/\/$/, ''),
    ...(v.namespace ? { namespace: v.namespace } : {}),
    ...(v.scope ? { scope: v.scope } : {}),
    duplicates: num(v.duplicates, 'duplicates', 0, 0, 1),
    reorder: num(v.reorder, 'reorder', 0, 0, 1),
    poison: num(v.poison, 'poison', 0, 0, 1),
    speedup: num(v.speedup, 'speedup', 60, 0.1, 100_000),
    intervalMs: num(v.interval, 'interval', 250, 10, 60_000),
    timeoutMs: num(v.timeout, 'timeout', 300, 1, 86_400) * 1000,
    dataDir: v['data-dir'] ?? '.data',
    seed: num(v.seed, 'seed', Date.now() % 2_147_483_647, 0, 2_147_483_647),
  };
}

/** mulberry32: small, seedable, good enough to spread drones and pick faults. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface Position {
  lat: number;
  lon: number;
}

const SEATTLE: Position = { lat: 47.6, lon: -122.3 };
const CRUISE_MPS = 15;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function metres(a: Position, b: Position): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6_371_000 * Math.asin(Math.sqrt(h));
}

const round = (x: number): number => Math.round(x * 1e6) / 1e6;

/** HTTP to the pipeline's API: principal headers locally, a bearer token in Azure. */
class Api {
  #token: { value: string; expires: number } | undefined;
  readonly #credential = new DefaultAzureCredential();

  constructor(private readonly o: Options) {}

  async headers(ownerId: string): Promise<Record<string, string>> {
    if (this.o.target === 'local') return principalHeaders({ id: ownerId, roles: [] });
    if (!this.#token || this.#token.expires - Date.now() < 60_000) {
      const t = await this.#credential.getToken(this.o.scope ?? '');
      if (!t) throw new Error(`No token for ${this.o.scope}.`);
      this.#token = { value: t.token, expires: t.expiresOnTimestamp };
    }
    return { authorization: `Bearer ${this.#token.value}` };
  }

  async call(method: string, route: string, ownerId: string, body?: unknown): Promise<{ status: number; headers: Headers; json: unknown }> {
    const res = await fetch(`${this.o.url}${route}`, {
      method,
      headers: { ...(await this.headers(ownerId)), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : (JSON.parse(text) as unknown);
    } catch {
      json = text;
    }
    return { status: res.status, headers: res.headers, json };
  }
}

interface Drone {
  readonly id: string;
  sequence: number;
  position: Position;
  battery: number;
  /** Flights of one drone happen one after another. */
  flying: Promise<void>;
}

interface Delivery {
  readonly id: string;
  readonly ownerId: string;
  readonly pickup: Position;
  readonly dropoff: Position;
  requestedAt?: number;
  assignedAt?: number;
  deliveredAt?: number;
  outcome?: 'Delivered' | 'Failed' | 'Cancelled' | 'Rejected' | 'TimedOut';
}

interface Counters {
  telemetry: number;
  duplicates: number;
  reordered: number;
  poison: number;
}

/** Publishes a drone's telemetry, injecting duplicates, reordering and poison as asked. */
class Telemetry {
  readonly counters: Counters = { telemetry: 0, duplicates: 0, reordered: 0, poison: 0 };
  readonly #held = new Map<string, OutgoingEvent>();

  constructor(
    private readonly publisher: EventPublisher,
    private readonly o: Options,
    private readonly random: () => number,
  ) {}

  event(d: Drone, status: string, deliveryId?: string, speedMps = 0): OutgoingEvent {
    d.sequence += 1;
    return {
      partitionKey: d.id,
      body: {
        schemaVersion: 1,
        droneId: d.id,
        sequence: d.sequence,
        timestamp: new Date().toISOString(),
        position: { lat: round(d.position.lat), lon: round(d.position.lon), altitudeM: status === 'Idle' ? 0 : 120 },
        batteryPct: Math.round(d.battery * 10) / 10,
        speedMps,
        status,
        ...(deliveryId ? { deliveryId } : {}),
      },
    };
  }

  /** `reorderable`: an in-flight position report, which may be overtaken by the next one. */
  async send(d: Drone, event: OutgoingEvent, reorderable = false): Promise<void> {
    const out: OutgoingEvent[] = [];
    if (reorderable && !this.#held.has(d.id) && this.random() < this.o.reorder) {
      this.#held.set(d.id, event);
      this.counters.reordered++;
      return;
    }
    out.push(event);
    const held = this.#held.get(d.id);
    if (held) {
      out.push(held);
      this.#held.delete(d.id);
    }
    if (this.random() < this.o.duplicates) {
      out.push(event);
      this.counters.duplicates++;
    }
    if (this.random() < this.o.poison) {
      out.push(this.poison(d));
      this.counters.poison++;
    }
    this.counters.telemetry++;
    await this.publisher.publish('telemetry', out);
  }

  poison(d: Drone): OutgoingEvent {
    const kind = Math.floor(this.random() * 3);
    if (kind === 0) return { partitionKey: d.id, body: '{"droneId": "truncated' };
    if (kind === 1) return { partitionKey: d.id, body: { schemaVersion: 1, droneId: d.id, sequence: -1, status: 'Teleporting' } };
    return { partitionKey: d.id, body: { schemaVersion: 1, droneId: d.id, sequence: d.sequence, batteryPct: 500 } };
  }
}

async function flyTo(d: Drone, target: Position, status: string, deliveryId: string, t: Telemetry, o: Options): Promise<void> {
  const distance = metres(d.position, target);
  const realMs = ((distance / CRUISE_MPS) * 1000) / o.speedup;
  const steps = Math.max(1, Math.ceil(realMs / o.intervalMs));
  const from = { ...d.position };
  for (let i = 1; i <= steps; i++) {
    const f = i / steps;
    d.position = { lat: from.lat + (target.lat - from.lat) * f, lon: from.lon + (target.lon - from.lon) * f };
    d.battery = Math.max(31, d.battery - 0.05);
    await t.send(d, t.event(d, status, deliveryId, CRUISE_MPS), i < steps);
    await sleep(o.intervalMs);
  }
}

async function fly(d: Drone, delivery: Delivery, home: Position, t: Telemetry, o: Options): Promise<void> {
  await flyTo(d, delivery.pickup, 'EnRouteToPickup', delivery.id, t, o);
  await t.send(d, t.event(d, 'PickedUp', delivery.id));
  await flyTo(d, delivery.dropoff, 'EnRouteToDropoff', delivery.id, t, o);
  await t.send(d, t.event(d, 'Delivered', delivery.id));
  await flyTo(d, home, 'Returning', delivery.id, t, o);
  d.battery = Math.min(100, d.battery + 20);
  await t.send(d, t.event(d, 'Idle'));
}

function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function countDeadLetters(o: Options): Promise<number | undefined> {
  if (o.target !== 'local') return undefined;
  const info = path.resolve(o.dataDir, 'runtime.json');
  if (!fs.existsSync(info)) return undefined;
  const parsed = JSON.parse(fs.readFileSync(info, 'utf8')) as { endpoints?: { blob?: { connectionString?: string } } };
  const cs = parsed.endpoints?.blob?.connectionString;
  if (!cs) return undefined;
  let n = 0;
  for await (const _ of BlobServiceClient.fromConnectionString(cs).getContainerClient(BLOB_CONTAINERS.deadLetter.name).listBlobsFlat()) n++;
  return n;
}

async function run(o: Options): Promise<number> {
  const random = rng(o.seed);
  const runId = `${Date.now().toString(36)}`;
  const publisher: EventPublisher = o.target === 'local' ? new LocalRuntimePublisher(o.url) : new AzureEventHubsPublisher(o.namespace ?? '', new DefaultAzureCredential());
  const api = new Api(o);
  const t = new Telemetry(publisher, o, random);
  const near = (spread: number): Position => ({ lat: SEATTLE.lat + (random() - 0.5) * spread, lon: SEATTLE.lon + (random() - 0.5) * spread });
  const deadLettersBefore = await countDeadLetters(o).catch(() => undefined);

  console.log(`Simulating ${o.drones} drones and ${o.deliveries} deliveries at ${o.rate}/s against ${o.url} (${o.target}), seed ${o.seed}, speedup ${o.speedup}x.`);
  const drones = new Map<string, Drone>();
  const homes = new Map<string, Position>();
  for (let i = 0; i < o.drones; i++) {
    const d: Drone = { id: `sim-${runId}-drone-${i}`, sequence: 0, position: near(0.1), battery: 80 + random() * 20, flying: Promise.resolve() };
    drones.set(d.id, d);
    homes.set(d.id, { ...d.position });
  }
  for (const d of drones.values()) await t.send(d, t.event(d, 'Idle'));
  // Give ingestion a moment so the first requests find drones.
  await sleep(1000);

  const deliveries: Delivery[] = [];
  const started = Date.now();
  const deadline = started + o.timeoutMs;
  const owners = Math.max(1, Math.min(10, Math.ceil(o.deliveries / 5)));

  const follow = async (delivery: Delivery): Promise<void> => {
    for (;;) {
      // 429: the pipeline bounds sagas in flight; wait as told.
      const r = await api.call('POST', '/api/deliveries', delivery.ownerId, {
        deliveryId: delivery.id,
        pickup: delivery.pickup,
        dropoff: delivery.dropoff,
        package: { size: (['small', 'medium', 'large'] as const)[Math.floor(random() * 3)], weightKg: Math.round((0.5 + random() * 10) * 10) / 10 },
      });
      if (r.status === 429 && Date.now() < deadline) {
        await sleep(Number(r.headers.get('retry-after') ?? '1') * 1000);
        continue;
      }
      if (r.status !== 202 && r.status !== 200) {
        delivery.outcome = 'Rejected';
        console.warn(`request ${delivery.id}: ${r.status} ${JSON.stringify(r.json)}`);
        return;
      }
      break;
    }
    delivery.requestedAt = Date.now();
    let flight: Promise<void> | undefined;
    while (Date.now() < deadline) {
      const r = await api.call('GET', `/api/deliveries/${delivery.id}`, delivery.ownerId);
      const view = r.status === 200 ? (r.json as { stage?: string; droneId?: string }) : undefined;
      if (view?.droneId && !flight) {
        const drone = drones.get(view.droneId);
        delivery.assignedAt = Date.now();
        if (drone) {
          flight = drone.flying = drone.flying.then(() => fly(drone, delivery, homes.get(drone.id) ?? SEATTLE, t, o)).catch((e: unknown) => console.warn(`flight ${delivery.id}: ${(e as Error).message}`));
        }
      }
      if (view?.stage === 'Delivered' || view?.stage === 'Failed' || view?.stage === 'Cancelled') {
        delivery.outcome = view.stage;
        if (view.stage === 'Delivered') delivery.deliveredAt = Date.now();
        await flight;
        return;
      }
      await sleep(250);
    }
    delivery.outcome = 'TimedOut';
  };

  // One line rewritten in place on a terminal; a line every 5 s into a log.
  let ticks = 0;
  const progress = setInterval(() => {
    ticks++;
    if (!process.stdout.isTTY && ticks % 5 !== 0) return;
    const by = (k: Delivery['outcome']): number => deliveries.filter((d) => d.outcome === k).length;
    const assigned = deliveries.filter((d) => d.assignedAt !== undefined).length;
    const line = `${((Date.now() - started) / 1000).toFixed(0)}s requested ${deliveries.filter((d) => d.requestedAt).length}/${o.deliveries} assigned ${assigned} delivered ${by('Delivered')} failed ${by('Failed')} cancelled ${by('Cancelled')} telemetry ${t.counters.telemetry}`;
    process.stdout.write(process.stdout.isTTY ? `\r${line}   ` : `${line}\n`);
  }, 1000);

  const followers: Promise<void>[] = [];
  for (let i = 0; i < o.deliveries; i++) {
    const delivery: Delivery = { id: `sim-${runId}-${i}`, ownerId: `sim-customer-${i % owners}`, pickup: near(0.08), dropoff: near(0.08) };
    deliveries.push(delivery);
    followers.push(follow(delivery).catch((e: unknown) => console.warn(`delivery ${delivery.id}: ${(e as Error).message}`)));
    await sleep(1000 / o.rate);
  }
  await Promise.all(followers);
  await Promise.all([...drones.values()].map((d) => d.flying));
  clearInterval(progress);
  await publisher.close();

  const by = (k: Delivery['outcome']): number => deliveries.filter((d) => d.outcome === k).length;
  const latencies = deliveries
    .filter((d) => d.deliveredAt !== undefined && d.requestedAt !== undefined)
    .map((d) => (d.deliveredAt ?? 0) - (d.requestedAt ?? 0))
    .sort((a, b) => a - b);
  const fmt = (ms: number | undefined): string => (ms === undefined ? 'n/a' : `${(ms / 1000).toFixed(2)} s`);
  const deadLettersAfter = await countDeadLetters(o).catch(() => undefined);
  console.log('\n\nSummary');
  console.log(`  deliveries: ${o.deliveries} requested, ${by('Delivered')} completed, ${by('Failed')} failed, ${by('Cancelled')} cancelled, ${by('Rejected')} rejected, ${by('TimedOut')} timed out`);
  console.log(`  request → delivered: p50 ${fmt(percentile(latencies, 50))}, p99 ${fmt(percentile(latencies, 99))} (speedup ${o.speedup}x, ${latencies.length} samples)`);
  console.log(`  telemetry: ${t.counters.telemetry} reports, ${t.counters.duplicates} duplicated, ${t.counters.reordered} reordered, ${t.counters.poison} poison`);
  console.log(
    `  dead letters: ${
      deadLettersAfter === undefined || deadLettersBefore === undefined
        ? 'n/a (count them with npm run deadletter -- list)'
        : `${deadLettersAfter - deadLettersBefore} new (${t.counters.poison} poison sent)`
    }`,
  );
  console.log(`  wall time: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return by('Delivered') === o.deliveries ? 0 : 1;
}

if (require.main === module) {
  let options: Options | 'help';
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (options === 'help') {
    console.log(USAGE);
    process.exit(0);
  }
  run(options)
    .then((code) => process.exit(code))
    .catch((e: unknown) => {
      console.error((e as Error).stack ?? String(e));
      process.exit(1);
    });
}
