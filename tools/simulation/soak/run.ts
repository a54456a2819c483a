/**
 * One soak run from start to end: the fleet registers and keeps reporting, the customers request
 * and follow their deliveries while the fleet flies them, then the invariants are checked, the
 * fleet signs off and the summary gives the exit code.
 */
import { DefaultAzureCredential } from '@azure/identity';
import { AzureEventHubsPublisher, LocalRuntimePublisher } from '../../../functions/adapters/event-publishers';
import { Customers } from './customers';
import { Fleet } from './fleet';
import { SEATTLE } from './geo';
import type { Position } from './geo';
import { checkRun } from './invariants';
import type { Options } from './options';
import { Api, sleep } from './pipeline';
import { countDeadLetters, report, startProgress } from './summary';
import { Telemetry } from './telemetry';
import type { EventPublisher } from '../../../domain/shared/ports';

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

/** Runs the simulation `o` describes; resolves the exit code (0: every invariant holds, nothing stuck). */
export async function run(o: Options): Promise<number> {
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
  const fleet = new Fleet(o, t, random, runId, near);
  await fleet.register();
  // Give ingestion a moment so the first requests find drones.
  await sleep(1000);

  const started = Date.now();
  const customers = new Customers(o, api, fleet, random, started + o.timeoutMs);
  const progress = startProgress(o, customers.deliveries, t.counters, started);
  await customers.requestAll(runId, near);
  await fleet.landed();
  clearInterval(progress);

  const { results, stuck } = await checkRun(api, customers.deliveries, fleet.drones);
  await fleet.signOff();
  await publisher.close();

  return report(o, {
    deliveries: customers.deliveries,
    counters: t.counters,
    results,
    stuck,
    deadLettersBefore,
    started,
  });
}
