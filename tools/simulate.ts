/**
 * `npm run simulate -- --drones N --deliveries M --rate R [options]`: a drone fleet and its
 * customers against the pipeline, locally (`npm start`) or in Azure. Drones register by telemetry
 * (Idle, battery high, around Seattle); customers request deliveries over HTTP; the simulator
 * polls each delivery until a drone is assigned, then flies that drone (EnRouteToPickup →
 * PickedUp → EnRouteToDropoff → Delivered → Returning → Idle) with rising sequence numbers and
 * positions moving along the way, in scaled time. Duplicates, reordering and poison events can be
 * injected. Idle drones send a heartbeat report every `--heartbeat` seconds, so they stay
 * available (the pipeline assigns only drones that reported in the last DroneFreshnessMinutes).
 *
 * As a soak test: `--cancel <p>` cancels that share of deliveries at random moments (a 409 for
 * one that already finished is fine), `--wrong-drone <p>` sends, for that share of deliveries, a
 * milestone report from a drone that is not the assigned one. At the end it checks the
 * invariants: every delivery ends Delivered, Cancelled or Failed; none ends Failed after its drone
 * reported Delivered; every history is gapless (1..n) and ends with its stage's event; milestones
 * come only from the assigned drone; and every drone is free again (no delivery, no
 * reservation). It exits non-zero when a delivery is still open at `--timeout` or an invariant
 * fails, naming stuck deliveries with their last event. `--summary-json <file>` writes the result.
 *
 * Azure (`--target azure`): telemetry goes to Event Hubs with `@azure/event-hubs` and
 * DefaultAzureCredential (the signed-in identity needs "Azure Event Hubs Data Sender" on the
 * namespace); HTTP calls carry a bearer token for `--scope` (the function app's Entra ID
 * application, e.g. `api://<client-id>/.default`), which App Service Authentication validates and
 * turns into the principal headers. Deliveries are then owned by that identity.
 *
 * Over 450 lines: options, the fleet, the customers and the summary's invariant check are one CLI
 * and not yet split into those parts (issue #13 moved the runtime out, not this file).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DefaultAzureCredential } from '@azure/identity';
import { BlobServiceClient } from '@azure/storage-blob';
import { AzureEventHubsPublisher, LocalRuntimePublisher } from '../functions/adapters/event-publishers';
import { principalHeaders } from '../functions/http/identity';
import { BLOB_CONTAINERS } from '../functions/resources';
import type { EventPublisher, OutgoingEvent } from '../domain/shared/ports';

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
  --cancel <p>          Share of deliveries cancelled (DELETE) at a random moment (default 0)
  --wrong-drone <p>     Share of deliveries that get a milestone report from a drone not assigned to them (default 0)
  --heartbeat <s>       Seconds between an idle drone's reports (default 30)
  --speedup <x>         Flight time scale (default 60: a 6-minute flight takes 6 s)
  --interval <ms>       Real milliseconds between a flying drone's reports (default 250)
  --timeout <s>         Give up on deliveries still open after this long (default 300)
  --data-dir <dir>      The local runtime's data directory, to count dead letters (default .data)
  --seed <n>            Random seed (default: time)
  --summary-json <file> Also write the summary and the invariant results as JSON`;

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
  readonly cancel: number;
  readonly wrongDrone: number;
  readonly heartbeatMs: number;
  readonly summaryJson?: string;
  readonly speedup: number;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly dataDir: string;
  readonly seed: number;
}

function num(value: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new Error(`--${name} must be a number in [${min}, ${max}], got "${value}".`);
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
      cancel: { type: 'string' },
      'wrong-drone': { type: 'string' },
      heartbeat: { type: 'string' },
      'summary-json': { type: 'string' },
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
  if (target === 'azure' && (!v.url || !v.namespace || !v.scope))
    throw new Error('--target azure needs --url, --namespace and --scope.');
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
    cancel: num(v.cancel, 'cancel', 0, 0, 1),
    wrongDrone: num(v['wrong-drone'], 'wrong-drone', 0, 0, 1),
    heartbeatMs: num(v.heartbeat, 'heartbeat', 30, 0.1, 3600) * 1000,
    ...(v['summary-json'] ? { summaryJson: v['summary-json'] } : {}),
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

  async headers(ownerId: string, roles: readonly string[] = []): Promise<Record<string, string>> {
    if (this.o.target === 'local') return principalHeaders({ id: ownerId, roles: [...roles] });
    if (!this.#token || this.#token.expires - Date.now() < 60_000) {
      const t = await this.#credential.getToken(this.o.scope ?? '');
      if (!t) throw new Error(`No token for ${this.o.scope}.`);
      this.#token = { value: t.token, expires: t.expiresOnTimestamp };
    }
    return { authorization: `Bearer ${this.#token.value}` };
  }

  async call(
    method: string,
    route: string,
    ownerId: string,
    body?: unknown,
    roles: readonly string[] = [],
  ): Promise<{ status: number; headers: Headers; json: unknown }> {
    const headers = {
      ...(await this.headers(ownerId, roles)),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    };
    // Every call the simulator makes is safe to repeat (same delivery id, same body).
    const res = await whileUnreachable(() =>
      fetch(`${this.o.url}${route}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      }),
    );
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
  /** Flights queued or under way; an idle drone (none) sends heartbeats. */
  flights: number;
}

type FinalStage = 'Delivered' | 'Failed' | 'Cancelled';
const FINAL_STAGES: readonly string[] = ['Delivered', 'Failed', 'Cancelled'];

interface Delivery {
  readonly id: string;
  readonly ownerId: string;
  readonly pickup: Position;
  readonly dropoff: Position;
  requestedAt?: number;
  assignedAt?: number;
  deliveredAt?: number;
  droneId?: string;
  outcome?: FinalStage | 'Rejected' | 'TimedOut';
  /** The answer to this delivery's DELETE, when one was sent. */
  cancelStatus?: number;
  /** A cancel was accepted: the drone stops flying it and goes home. */
  cancelAccepted: boolean;
  /** The assigned drone sent its Delivered report. */
  droneReportedDelivered: boolean;
  /** The drone that sent a milestone for it without being assigned. */
  wrongDroneId?: string;
}

/** The operations identity the invariant checks read drones with (GET /api/drones needs a fleet role). */
const OPERATOR = { id: 'sim-operator', roles: ['Deliveries.Reader'] };

interface Counters {
  telemetry: number;
  duplicates: number;
  reordered: number;
  poison: number;
  heartbeats: number;
  wrongDrone: number;
}

/** Publishes a drone's telemetry, injecting duplicates, reordering and poison as asked. */
class Telemetry {
  readonly counters: Counters = { telemetry: 0, duplicates: 0, reordered: 0, poison: 0, heartbeats: 0, wrongDrone: 0 };
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
    await whileUnreachable(() => this.publisher.publish('telemetry', out));
  }

  /** Exactly these events, no faults injected (heartbeats, the wrong drone's report). */
  async sendPlain(events: readonly OutgoingEvent[]): Promise<void> {
    this.counters.telemetry += events.length;
    await whileUnreachable(() => this.publisher.publish('telemetry', events));
  }

  poison(d: Drone): OutgoingEvent {
    const kind = Math.floor(this.random() * 3);
    if (kind === 0) return { partitionKey: d.id, body: '{"droneId": "truncated' };
    if (kind === 1)
      return { partitionKey: d.id, body: { schemaVersion: 1, droneId: d.id, sequence: -1, status: 'Teleporting' } };
    return { partitionKey: d.id, body: { schemaVersion: 1, droneId: d.id, sequence: d.sequence, batteryPct: 500 } };
  }
}

/** Flies toward `target`; resolves false, where it stands, when `stop()` says the flight is off. */
async function flyTo(
  d: Drone,
  target: Position,
  status: string,
  deliveryId: string | undefined,
  t: Telemetry,
  o: Options,
  stop: () => boolean = () => false,
): Promise<boolean> {
  const distance = metres(d.position, target);
  const realMs = ((distance / CRUISE_MPS) * 1000) / o.speedup;
  const steps = Math.max(1, Math.ceil(realMs / o.intervalMs));
  const from = { ...d.position };
  for (let i = 1; i <= steps; i++) {
    if (stop()) return false;
    const f = i / steps;
    d.position = { lat: from.lat + (target.lat - from.lat) * f, lon: from.lon + (target.lon - from.lon) * f };
    d.battery = Math.max(31, d.battery - 0.05);
    await t.send(d, t.event(d, status, deliveryId, CRUISE_MPS), i < steps);
    await sleep(o.intervalMs);
  }
  return true;
}

/** One delivery's flight; a cancel accepted before the drop-off sends the drone home empty. */
async function fly(d: Drone, delivery: Delivery, home: Position, t: Telemetry, o: Options): Promise<void> {
  const cancelled = (): boolean => delivery.cancelAccepted;
  let done = (await flyTo(d, delivery.pickup, 'EnRouteToPickup', delivery.id, t, o, cancelled)) && !cancelled();
  if (done) {
    await t.send(d, t.event(d, 'PickedUp', delivery.id));
    done = (await flyTo(d, delivery.dropoff, 'EnRouteToDropoff', delivery.id, t, o, cancelled)) && !cancelled();
  }
  if (done) {
    delivery.droneReportedDelivered = true;
    await t.send(d, t.event(d, 'Delivered', delivery.id));
    await flyTo(d, home, 'Returning', delivery.id, t, o);
  } else {
    await flyTo(d, home, 'Returning', undefined, t, o);
  }
  d.battery = Math.min(100, d.battery + 20);
  await t.send(d, t.event(d, 'Idle'));
}

/** How long a drone or a customer keeps trying while the pipeline cannot be reached (a restart). */
const UNREACHABLE_PATIENCE_MS = 120_000;

/**
 * Runs `call` again while the pipeline cannot be reached (connection refused or reset, as while
 * it restarts), as devices and apps do; any answer, and any other error, goes to the caller.
 */
async function whileUnreachable<T>(call: () => Promise<T>): Promise<T> {
  const giveUpAt = Date.now() + UNREACHABLE_PATIENCE_MS;
  for (let wait = 200; ; wait = Math.min(wait * 2, 5_000)) {
    try {
      return await call();
    } catch (e) {
      const unreachable = /fetch failed|ECONNREFUSED|ECONNRESET|socket hang up/i.test(
        `${(e as Error).message} ${String((e as { cause?: unknown }).cause ?? '')}`,
      );
      if (!unreachable || Date.now() > giveUpAt) throw e;
      await sleep(wait);
    }
  }
}

/** How often a customer asks for its delivery's status: while it flies, and while it waits for a drone. */
const POLL_FLYING_MS = 1000;
const POLL_WAITING_MS = 2000;

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
  for await (const _ of BlobServiceClient.fromConnectionString(cs)
    .getContainerClient(BLOB_CONTAINERS.deadLetter.name)
    .listBlobsFlat())
    n++;
  return n;
}

// ── The invariant check ───────────────────────────────────────────────────────────────────

interface HistoryEvent {
  readonly type: string;
  readonly sequence: number;
  readonly occurredAt: string;
  readonly data?: { readonly droneId?: string };
}

export interface InvariantResult {
  readonly name: string;
  readonly ok: boolean;
  /** What broke it, one line each (empty when ok). */
  readonly violations: readonly string[];
}

export interface StuckDelivery {
  readonly deliveryId: string;
  readonly stage: string;
  readonly lastEvent?: { readonly type: string; readonly sequence: number; readonly occurredAt: string };
}

/** The event a history must end its forward part with for each final stage. */
const TERMINAL_EVENT: Record<FinalStage, string> = {
  Delivered: 'DeliveryCompleted',
  Cancelled: 'DeliveryCancelled',
  Failed: 'DeliveryFailed',
};
const MILESTONE_EVENTS = new Set(['PackagePickedUp', 'DeliveryInTransit', 'DeliveryCompleted']);

/** Pure: the delivery invariants from what the API answered for each delivery. */
export function checkDeliveries(
  observed: readonly {
    readonly delivery: Pick<Delivery, 'id' | 'droneReportedDelivered'>;
    readonly stage: string | undefined;
    readonly history: readonly HistoryEvent[] | undefined;
  }[],
): { results: InvariantResult[]; stuck: StuckDelivery[] } {
  const final: string[] = [];
  const failedAfterDelivered: string[] = [];
  const gapless: string[] = [];
  const fromAssigned: string[] = [];
  const stuck: StuckDelivery[] = [];
  for (const { delivery, stage, history } of observed) {
    const events = history ?? [];
    const last = events[events.length - 1];
    if (!stage || !FINAL_STAGES.includes(stage)) {
      final.push(`${delivery.id} is ${stage ?? 'unknown'}${last ? ` (last event ${last.sequence} ${last.type})` : ''}`);
      stuck.push({
        deliveryId: delivery.id,
        stage: stage ?? 'unknown',
        ...(last ? { lastEvent: { type: last.type, sequence: last.sequence, occurredAt: last.occurredAt } } : {}),
      });
    }
    if (stage === 'Failed' && delivery.droneReportedDelivered)
      failedAfterDelivered.push(`${delivery.id} ended Failed after its drone reported Delivered`);
    const expected = events.map((_, i) => i + 1);
    if (events.length === 0 || events.some((e, i) => e.sequence !== expected[i])) {
      gapless.push(`${delivery.id} history sequences ${events.map((e) => e.sequence).join(',') || '(none)'}`);
    } else if (
      stage &&
      FINAL_STAGES.includes(stage) &&
      !events.some((e) => e.type === TERMINAL_EVENT[stage as FinalStage])
    ) {
      gapless.push(
        `${delivery.id} is ${stage} but its history has no ${TERMINAL_EVENT[stage as FinalStage]} (events ${events.map((e) => e.type).join(', ')})`,
      );
    }
    const assigned = [...events].reverse().find((e) => e.type === 'DroneAssigned')?.data?.droneId;
    for (const e of events) {
      if (MILESTONE_EVENTS.has(e.type) && e.data?.droneId !== assigned)
        fromAssigned.push(`${delivery.id} ${e.type} from ${e.data?.droneId ?? '?'}, assigned ${assigned ?? 'none'}`);
    }
  }
  const result = (name: string, violations: string[]): InvariantResult => ({
    name,
    ok: violations.length === 0,
    violations,
  });
  return {
    results: [
      result('every delivery ends Delivered, Cancelled or Failed', final),
      result('none ends Failed after its drone reported Delivered', failedAfterDelivered),
      result('every history is gapless (1..n) and holds its final event', gapless),
      result('milestones come only from the assigned drone', fromAssigned),
    ],
    stuck,
  };
}

async function observeDeliveries(
  api: Api,
  deliveries: readonly Delivery[],
): Promise<{ delivery: Delivery; stage: string | undefined; history: HistoryEvent[] | undefined }[]> {
  const out: { delivery: Delivery; stage: string | undefined; history: HistoryEvent[] | undefined }[] = [];
  for (const delivery of deliveries) {
    const status = await api.call('GET', `/api/deliveries/${delivery.id}`, delivery.ownerId);
    const history = await api.call('GET', `/api/deliveries/${delivery.id}/history`, delivery.ownerId);
    out.push({
      delivery,
      stage: status.status === 200 ? (status.json as { stage?: string }).stage : undefined,
      history: history.status === 200 ? (history.json as { events?: HistoryEvent[] }).events : undefined,
    });
  }
  return out;
}

/** Every drone free again: no delivery in its state and no reservation. Polled for `graceMs`, since releases trail the final event. */
async function checkDrones(api: Api, drones: readonly Drone[], graceMs: number): Promise<InvariantResult> {
  const until = Date.now() + graceMs;
  for (;;) {
    const violations: string[] = [];
    for (const d of drones) {
      const r = await api.call('GET', `/api/drones/${d.id}`, OPERATOR.id, undefined, OPERATOR.roles);
      const view = r.json as { deliveryId?: string; reservedFor?: string; status?: string } | undefined;
      if (r.status !== 200) violations.push(`${d.id}: GET answered ${r.status}`);
      else if (view?.deliveryId || view?.reservedFor)
        violations.push(
          `${d.id} is ${view.status ?? '?'}${view.deliveryId ? `, on delivery ${view.deliveryId}` : ''}${view.reservedFor ? `, reserved for ${view.reservedFor}` : ''}`,
        );
    }
    if (violations.length === 0 || Date.now() >= until)
      return {
        name: 'every drone is free again (no delivery, no reservation)',
        ok: violations.length === 0,
        violations,
      };
    await sleep(1000);
  }
}

async function run(o: Options): Promise<number> {
  const random = rng(o.seed);
  const runId = `${Date.now().toString(36)}`;
  const publisher: EventPublisher =
    o.target === 'local'
      ? new LocalRuntimePublisher(o.url)
      : new AzureEventHubsPublisher(o.namespace ?? '', new DefaultAzureCredential());
  const api = new Api(o);
  const t = new Telemetry(publisher, o, random);
  const near = (spread: number): Position => ({
    lat: SEATTLE.lat + (random() - 0.5) * spread,
    lon: SEATTLE.lon + (random() - 0.5) * spread,
  });
  const deadLettersBefore = await countDeadLetters(o).catch(() => undefined);

  console.log(
    `Simulating ${o.drones} drones and ${o.deliveries} deliveries at ${o.rate}/s against ${o.url} (${o.target}), seed ${o.seed}, speedup ${o.speedup}x` +
      `${o.cancel > 0 ? `, cancel ${o.cancel}` : ''}${o.wrongDrone > 0 ? `, wrong drone ${o.wrongDrone}` : ''}.`,
  );
  const drones = new Map<string, Drone>();
  const homes = new Map<string, Position>();
  for (let i = 0; i < o.drones; i++) {
    const d: Drone = {
      id: `sim-${runId}-drone-${i}`,
      sequence: 0,
      position: near(0.1),
      battery: 80 + random() * 20,
      flying: Promise.resolve(),
      flights: 0,
    };
    drones.set(d.id, d);
    homes.set(d.id, { ...d.position });
  }
  for (const d of drones.values()) await t.send(d, t.event(d, 'Idle'));
  // Idle drones keep reporting, or the pipeline stops assigning them after DroneFreshnessMinutes.
  const heartbeat = setInterval(() => {
    const idle = [...drones.values()].filter((d) => d.flights === 0);
    if (idle.length === 0) return;
    t.counters.heartbeats += idle.length;
    t.sendPlain(idle.map((d) => t.event(d, 'Idle'))).catch((e: unknown) =>
      console.warn(`heartbeat: ${(e as Error).message}`),
    );
  }, o.heartbeatMs);
  // Give ingestion a moment so the first requests find drones.
  await sleep(1000);

  const deliveries: Delivery[] = [];
  const started = Date.now();
  const deadline = started + o.timeoutMs;
  const owners = Math.max(1, Math.min(10, Math.ceil(o.deliveries / 5)));
  const cancels: Promise<void>[] = [];

  /** A milestone from another drone than the assigned one: the pipeline must not count it. */
  const sendWrongDrone = async (delivery: Delivery, assigned: string): Promise<void> => {
    const others = [...drones.values()].filter((d) => d.id !== assigned);
    const idle = others.filter((d) => d.flights === 0);
    const pool = idle.length > 0 ? idle : others;
    const other = pool[Math.floor(random() * pool.length)];
    if (!other) return;
    delivery.wrongDroneId = other.id;
    t.counters.wrongDrone++;
    const events = [t.event(other, 'PickedUp', delivery.id)];
    // An idle impostor reports Idle again at once, so it stays assignable.
    if (other.flights === 0) events.push(t.event(other, 'Idle'));
    await t.sendPlain(events);
  };

  const scheduleCancel = (delivery: Delivery): void => {
    // Anywhere from before assignment to after the drop-off: a typical flight, in real time, twice.
    const flightMs =
      ((metres(SEATTLE, delivery.pickup) + metres(delivery.pickup, delivery.dropoff)) / CRUISE_MPS / o.speedup) * 1000;
    const delayMs = random() * Math.max(2000, 2 * flightMs);
    cancels.push(
      sleep(delayMs).then(async () => {
        // Sent even when the delivery has finished meanwhile: the answer is then a 409, which is fine.
        if (Date.now() > deadline) return;
        const r = await api.call('DELETE', `/api/deliveries/${delivery.id}`, delivery.ownerId);
        delivery.cancelStatus = r.status;
        if (r.status === 202) delivery.cancelAccepted = true;
        else if (r.status !== 409) console.warn(`cancel ${delivery.id}: ${r.status} ${JSON.stringify(r.json)}`);
      }),
    );
  };

  const follow = async (delivery: Delivery): Promise<void> => {
    for (;;) {
      // 429: the pipeline bounds sagas in flight; wait as told.
      const r = await api.call('POST', '/api/deliveries', delivery.ownerId, {
        deliveryId: delivery.id,
        pickup: delivery.pickup,
        dropoff: delivery.dropoff,
        package: {
          size: (['small', 'medium', 'large'] as const)[Math.floor(random() * 3)],
          weightKg: Math.round((0.5 + random() * 10) * 10) / 10,
        },
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
    if (random() < o.cancel) scheduleCancel(delivery);
    const wrongDrone = random() < o.wrongDrone;
    let flight: Promise<void> | undefined;
    while (Date.now() < deadline) {
      const r = await api.call('GET', `/api/deliveries/${delivery.id}`, delivery.ownerId);
      const view = r.status === 200 ? (r.json as { stage?: string; droneId?: string }) : undefined;
      if (view?.droneId && !flight && delivery.droneId === undefined) {
        const drone = drones.get(view.droneId);
        delivery.assignedAt = Date.now();
        delivery.droneId = view.droneId;
        if (wrongDrone) await sendWrongDrone(delivery, view.droneId);
        if (!drone)
          console.warn(
            `delivery ${delivery.id}: assigned ${view.droneId}, which is not one of this run's drones; nobody will fly it`,
          );
        if (drone) {
          drone.flights++;
          flight = drone.flying = drone.flying
            .then(() => fly(drone, delivery, homes.get(drone.id) ?? SEATTLE, t, o))
            .catch((e: unknown) => console.warn(`flight ${delivery.id}: ${(e as Error).message}`))
            .finally(() => void drone.flights--);
        }
      }
      if (view?.stage && FINAL_STAGES.includes(view.stage)) {
        delivery.outcome = view.stage as FinalStage;
        if (view.stage === 'Delivered') delivery.deliveredAt = Date.now();
        // A delivery that ended otherwise (cancelled, failed) while its drone flies: the drone goes home.
        if (view.stage !== 'Delivered') delivery.cancelAccepted = true;
        await flight;
        return;
      }
      // A customer's app polls, it does not hammer: 200 deliveries polled four times a second were
      // most of the local runtime's load and slowed the very pipeline under test.
      await sleep(view?.droneId ? POLL_FLYING_MS : POLL_WAITING_MS);
    }
    delivery.outcome = 'TimedOut';
    delivery.cancelAccepted = true;
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
    const delivery: Delivery = {
      id: `sim-${runId}-${i}`,
      ownerId: `sim-customer-${i % owners}`,
      pickup: near(0.08),
      dropoff: near(0.08),
      cancelAccepted: false,
      droneReportedDelivered: false,
    };
    deliveries.push(delivery);
    followers.push(
      follow(delivery).catch((e: unknown) => console.warn(`delivery ${delivery.id}: ${(e as Error).message}`)),
    );
    await sleep(1000 / o.rate);
  }
  await Promise.all(followers);
  await Promise.all(cancels);
  await Promise.all([...drones.values()].map((d) => d.flying));
  clearInterval(progress);

  // ── Invariants ──
  const accepted = deliveries.filter((d) => d.outcome !== 'Rejected');
  const observed = await observeDeliveries(api, accepted);
  const { results, stuck } = checkDeliveries(observed);
  results.push(await checkDrones(api, [...drones.values()], 15_000));
  const rejected = deliveries.filter((d) => d.outcome === 'Rejected');
  results.push({
    name: 'every request is accepted',
    ok: rejected.length === 0,
    violations: rejected.map((d) => `${d.id} was rejected`),
  });
  clearInterval(heartbeat);
  // Signing off: the fleet docks (Charging), so a later run on the same pipeline is not handed
  // drones nobody flies any more while their last Idle report is still fresh.
  await t
    .sendPlain([...drones.values()].map((d) => t.event(d, 'Charging')))
    .catch((e: unknown) => console.warn(`sign-off: ${(e as Error).message}`));
  await publisher.close();

  const by = (k: Delivery['outcome']): number => deliveries.filter((d) => d.outcome === k).length;
  const latencies = deliveries
    .filter((d) => d.deliveredAt !== undefined && d.requestedAt !== undefined)
    .map((d) => (d.deliveredAt ?? 0) - (d.requestedAt ?? 0))
    .sort((a, b) => a - b);
  const fmt = (ms: number | undefined): string => (ms === undefined ? 'n/a' : `${(ms / 1000).toFixed(2)} s`);
  const deadLettersAfter = await countDeadLetters(o).catch(() => undefined);
  const cancelsSent = deliveries.filter((d) => d.cancelStatus !== undefined);
  const cancelAnswers = new Map<number, number>();
  for (const d of cancelsSent)
    cancelAnswers.set(d.cancelStatus ?? 0, (cancelAnswers.get(d.cancelStatus ?? 0) ?? 0) + 1);
  const ok = results.every((r) => r.ok) && stuck.length === 0;

  console.log('\n\nSummary');
  console.log(
    `  deliveries: ${o.deliveries} requested, ${by('Delivered')} completed, ${by('Failed')} failed, ${by('Cancelled')} cancelled, ${by('Rejected')} rejected, ${by('TimedOut')} timed out`,
  );
  console.log(
    `  request → delivered: p50 ${fmt(percentile(latencies, 50))}, p99 ${fmt(percentile(latencies, 99))} (speedup ${o.speedup}x, ${latencies.length} samples)`,
  );
  console.log(
    `  telemetry: ${t.counters.telemetry} reports, ${t.counters.duplicates} duplicated, ${t.counters.reordered} reordered, ${t.counters.poison} poison, ` +
      `${t.counters.heartbeats} heartbeats, ${t.counters.wrongDrone} from a wrong drone`,
  );
  console.log(
    `  cancels: ${cancelsSent.length} sent (${[...cancelAnswers].map(([s, n]) => `${n}× ${s}`).join(', ') || 'none'})`,
  );
  console.log(
    `  dead letters: ${
      deadLettersAfter === undefined || deadLettersBefore === undefined
        ? 'n/a (count them with npm run deadletter -- list)'
        : `${deadLettersAfter - deadLettersBefore} new (${t.counters.poison} poison sent)`
    }`,
  );
  console.log(`  wall time: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log('Invariants');
  for (const r of results) {
    console.log(`  ${r.ok ? 'PASS' : 'FAIL'}  ${r.name}`);
    for (const v of r.violations.slice(0, 20)) console.log(`          ${v}`);
    if (r.violations.length > 20) console.log(`          … and ${r.violations.length - 20} more`);
  }
  if (stuck.length > 0) {
    console.log(`Stuck deliveries (${stuck.length}):`);
    for (const s of stuck)
      console.log(
        `  ${s.deliveryId}  ${s.stage}  last event: ${s.lastEvent ? `${s.lastEvent.sequence} ${s.lastEvent.type} at ${s.lastEvent.occurredAt}` : 'none'}`,
      );
  }
  console.log(ok ? 'All invariants hold.' : 'Some invariants failed or deliveries are stuck.');

  if (o.summaryJson) {
    const summary = {
      seed: o.seed,
      deliveries: {
        requested: o.deliveries,
        delivered: by('Delivered'),
        failed: by('Failed'),
        cancelled: by('Cancelled'),
        rejected: by('Rejected'),
        timedOut: by('TimedOut'),
      },
      telemetry: t.counters,
      cancels: { sent: cancelsSent.length, answers: Object.fromEntries(cancelAnswers) },
      wrongDroneDeliveries: deliveries
        .filter((d) => d.wrongDroneId)
        .map((d) => ({ deliveryId: d.id, wrongDroneId: d.wrongDroneId, assigned: d.droneId })),
      deadLetters:
        deadLettersAfter !== undefined && deadLettersBefore !== undefined ? deadLettersAfter - deadLettersBefore : null,
      invariants: results,
      stuck,
      ok,
    };
    fs.writeFileSync(o.summaryJson, JSON.stringify(summary, null, 2));
  }
  return ok ? 0 : 1;
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
