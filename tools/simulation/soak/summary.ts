/**
 * What a soak run reports: the progress line while it runs, dead letters counted in the local
 * runtime's storage, and at the end the summary (outcomes, latency percentiles, telemetry and
 * cancel counts, the invariants, stuck deliveries), also written as JSON with `--summary-json`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { BLOB_CONTAINERS } from '../../../functions/resources';
import type { Delivery } from './customers';
import type { InvariantResult, StuckDelivery } from './invariants';
import type { Options } from './options';
import type { Counters } from './telemetry';

function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** The dead letters in the local runtime's storage; undefined in Azure or when it cannot tell. */
export async function countDeadLetters(o: Options): Promise<number | undefined> {
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

/** One line rewritten in place on a terminal; a line every 5 s into a log. Stop it with clearInterval. */
export function startProgress(
  o: Options,
  deliveries: readonly Delivery[],
  counters: Counters,
  started: number,
): ReturnType<typeof setInterval> {
  let ticks = 0;
  return setInterval(() => {
    ticks++;
    if (!process.stdout.isTTY && ticks % 5 !== 0) return;
    const by = (k: Delivery['outcome']): number => deliveries.filter((d) => d.outcome === k).length;
    const assigned = deliveries.filter((d) => d.assignedAt !== undefined).length;
    const line = `${((Date.now() - started) / 1000).toFixed(0)}s requested ${deliveries.filter((d) => d.requestedAt).length}/${o.deliveries} assigned ${assigned} delivered ${by('Delivered')} failed ${by('Failed')} cancelled ${by('Cancelled')} telemetry ${counters.telemetry}`;
    process.stdout.write(process.stdout.isTTY ? `\r${line}   ` : `${line}\n`);
  }, 1000);
}

/** A finished run, as the summary reads it. */
export interface RunResult {
  readonly deliveries: readonly Delivery[];
  readonly counters: Counters;
  readonly results: readonly InvariantResult[];
  readonly stuck: readonly StuckDelivery[];
  /** Dead letters counted before the run started (undefined when they could not be). */
  readonly deadLettersBefore: number | undefined;
  /** When the first delivery was about to be requested (ms). */
  readonly started: number;
}

/** Prints the summary (and writes `--summary-json`); resolves the exit code: 0 when every invariant holds and none is stuck. */
export async function report(o: Options, run: RunResult): Promise<number> {
  const { deliveries, counters, results, stuck, deadLettersBefore, started } = run;
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
    `  telemetry: ${counters.telemetry} reports, ${counters.duplicates} duplicated, ${counters.reordered} reordered, ${counters.poison} poison, ` +
      `${counters.heartbeats} heartbeats, ${counters.wrongDrone} from a wrong drone`,
  );
  console.log(
    `  cancels: ${cancelsSent.length} sent (${[...cancelAnswers].map(([s, n]) => `${n}× ${s}`).join(', ') || 'none'})`,
  );
  console.log(
    `  dead letters: ${
      deadLettersAfter === undefined || deadLettersBefore === undefined
        ? 'n/a (count them with npm run deadletter -- list)'
        : `${deadLettersAfter - deadLettersBefore} new (${counters.poison} poison sent)`
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
      telemetry: counters,
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
