/**
 * Load levelling on the local hubs: a burst of telemetry published as fast as this process can
 * append it (100,000 events; fewer in quick mode) through the running runtime's in-process hub
 * API, drained by the real ingestion function on its trigger (host.json batching, checkpoints,
 * Cosmos writes). Reports the publish rate, the peak lag (events published and not yet
 * checkpointed by the ingestion function, summed over partitions) and the drain time.
 *
 * There is no same-run baseline for this one: the anchor is Event Hubs' published ingress of
 * 1,000 events/s (or 1 MB/s) per throughput unit, so the ratios read as "throughput units'
 * worth", and the drain time is set beside the time one unit would take to take the burst in.
 */
import { FUNCTIONS, HUBS } from '../../functions/names';
import { EVENT_HUBS } from '../../functions/resources';
import type { Telemetry } from '../../domain/telemetry/schema';
import type { LocalRuntime } from '../local/fabrikam';
import type { EventToPublish } from '@fabrikam/functions-local';
import type { Row } from './harness';

/** Event Hubs ingress per throughput unit (events/s); the anchor, not a measurement. */
export const EVENT_HUBS_TU_EVENTS_PER_SECOND = 1000;
const TU_BYTES_PER_SECOND = 1024 * 1024;
const CHUNK = 1000;
const FLEET = 1000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

function telemetry(i: number): EventToPublish {
  const droneId = `burst-drone-${i % FLEET}`;
  const status: Telemetry['status'] = i % 3 === 0 ? 'Returning' : i % 3 === 1 ? 'Idle' : 'Charging';
  const body: Telemetry = {
    schemaVersion: 1,
    droneId,
    sequence: i + 1,
    timestamp: new Date(Date.UTC(2026, 10, 22, 10, 0, 0) + i).toISOString(),
    position: { lat: 47.6 + (i % 100) / 1000, lon: -122.1 - (i % 50) / 1000, altitudeM: 60 + (i % 40) },
    batteryPct: 95 - (i % 50),
    speedMps: status === 'Returning' ? 12 : 0,
    status,
  };
  return { body, partitionKey: droneId };
}

export async function benchLoadLevelling(rt: LocalRuntime, opts: { quick: boolean }): Promise<Row[]> {
  const total = opts.quick ? 5_000 : 100_000;
  const drainTimeoutMs = opts.quick ? 60_000 : 300_000;
  const hub = rt.namespace.hub(HUBS.telemetry);
  const group = EVENT_HUBS.find((h) => h.name === HUBS.telemetry)?.consumerGroups[0]?.name;
  if (!group) throw new Error('the telemetry hub declares no consumer group');
  const checkpointed = (partitionId: string): number =>
    rt.namespace.checkpoints.get({
      hub: HUBS.telemetry,
      consumerGroup: group,
      owner: FUNCTIONS.ingestTelemetry,
      partitionId,
    })?.sequenceNumber ?? -1;
  const lag = (): number => hub.partitionIds.reduce((n, p) => n + (hub.lastSequenceNumber(p) - checkpointed(p)), 0);
  const startLag = lag();

  // Bodies are built before the clock starts: the burst measures the hub, not the generator.
  const chunks: EventToPublish[][] = [];
  for (let i = 0; i < total; i += CHUNK)
    chunks.push(Array.from({ length: Math.min(CHUNK, total - i) }, (_, k) => telemetry(i + k)));
  let bytes = 0;
  let peak = startLag;
  const sampler = setInterval(() => (peak = Math.max(peak, lag())), 10);
  try {
    const started = performance.now();
    for (const chunk of chunks) {
      hub.publish(chunk);
      peak = Math.max(peak, lag());
      // Yield between chunks, as a producer on another connection would let the consumers run.
      await yieldToLoop();
    }
    const published = performance.now();
    for (const chunk of chunks) for (const e of chunk) bytes += Buffer.byteLength(JSON.stringify(e.body));
    let remaining = lag();
    while (remaining > startLag && performance.now() - started < drainTimeoutMs) {
      await sleep(20);
      remaining = lag();
    }
    const drained = performance.now();
    peak = Math.max(peak, remaining);
    const publishSeconds = (published - started) / 1000;
    const drainSeconds = (drained - started) / 1000;
    const processed = total - Math.max(0, remaining - startLag);
    const done = remaining <= startLag;
    const publishRate = total / publishSeconds;
    const drainRate = processed / drainSeconds;
    const anchorSeconds = total / EVENT_HUBS_TU_EVENTS_PER_SECOND;
    const notDrained = done
      ? ''
      : `; NOT drained within ${drainTimeoutMs / 1000} s: ${remaining - startLag} events left`;
    return [
      {
        metric: 'load levelling: burst publish rate',
        ours: publishRate,
        baseline: EVENT_HUBS_TU_EVENTS_PER_SECOND,
        ratio: publishRate / EVENT_HUBS_TU_EVENTS_PER_SECOND,
        target: '>= 100 (a 100K events/s burst)',
        unit: 'events/s vs 1 TU ingress (anchor)',
        note: `${publishRate >= 100 * EVENT_HUBS_TU_EVENTS_PER_SECOND ? 'target met' : 'target missed: the local hub JSON-encodes every event and appends it to its partition log with a synchronous write before publish returns, on the same 2 cores the ingestion function drains on between chunks; Event Hubs spreads such a burst over 100+ TUs of servers'}; ${total.toLocaleString('en-US')} telemetry events from ${FLEET} drones in chunks of ${CHUNK} through the in-process hub API, ${(bytes / publishSeconds / TU_BYTES_PER_SECOND).toFixed(1)} MB/s of bodies vs 1 MB/s per TU`,
      },
      {
        metric: 'load levelling: drain rate (ingestion function)',
        ours: drainRate,
        baseline: EVENT_HUBS_TU_EVENTS_PER_SECOND,
        ratio: drainRate / EVENT_HUBS_TU_EVENTS_PER_SECOND,
        target: '>= 10 (10K events/s, 1,000 drones)',
        unit: 'events/s checkpointed vs 1 TU ingress (anchor)',
        note: `${drainRate >= 10 * EVENT_HUBS_TU_EVENTS_PER_SECOND ? 'target met' : 'target missed: with 1,000 drones over 4 partitions a batch of 100 holds ~80 distinct drones, so the drain costs ~0.8 conditional writes per event, each a full HTTP round trip through the Cosmos SDK (headers, HMAC signing, diagnostics, retry pipeline) into the in-process stand-in and its write-ahead log; that per-request cost, not the dispatcher (a no-op handler drains >100K events/s), bounds the rate'}; the real ingestTelemetry trigger path: host.json batches of up to 100, one invocation per partition at a time, checkpoints every 250 ms per partition${notDrained}`,
      },
      {
        metric: 'load levelling: peak lag',
        ours: peak - startLag,
        baseline: total,
        ratio: (peak - startLag) / total,
        target: 'info',
        unit: 'unprocessed events vs burst size',
        note: 'hub positions minus the ingestion function checkpoints, sampled every 10 ms and after every publish',
      },
      {
        metric: 'load levelling: drain time',
        ours: drainSeconds,
        baseline: anchorSeconds,
        ratio: drainSeconds / anchorSeconds,
        target: 'info',
        unit: 's from first publish to last checkpoint vs the burst at 1 TU ingress (anchor)',
        ...(done ? {} : { note: `not drained: timed out${notDrained}` }),
      },
    ];
  } finally {
    clearInterval(sampler);
  }
}
