/**
 * Batch planning for ingestion: decode each body, classify it as telemetry or poison, coalesce
 * the valid events per drone, and decide which milestones a batch carries past the stored state.
 * Pure: decoding takes bytes or text, never I/O.
 */
import { parseBody, poison, rawText } from '../shared/body';
import type { Poison } from '../shared/body';
import { isNewer, stateFromTelemetry } from './drone-state';
import type { DroneState } from './drone-state';
import { milestoneOf } from './milestones';
import type { Milestone } from './milestones';
import { MAX_TELEMETRY_BODY_BYTES, validateTelemetry } from './schema';
import type { Telemetry } from './schema';
import type { DeadLetterReason } from '../shared/ports';

export type Decoded = { readonly ok: true; readonly telemetry: Telemetry } | Poison<DeadLetterReason>;

export function decodeTelemetry(body: unknown, utf8: (bytes: Uint8Array) => string): Decoded {
  const parsed = parseBody(body, utf8, MAX_TELEMETRY_BODY_BYTES);
  if (!parsed.ok) return parsed;
  const verdict = validateTelemetry(parsed.value);
  if (verdict.ok) return { ok: true, telemetry: verdict.value };
  return poison(verdict.reason, verdict.errors, rawText(body, utf8));
}

/** Valid events grouped per drone, each group in ascending sequence with duplicates removed (the first kept). */
export function groupByDrone(events: readonly Telemetry[]): Map<string, Telemetry[]> {
  const groups = new Map<string, Telemetry[]>();
  for (const t of events) {
    const g = groups.get(t.droneId);
    if (g) g.push(t);
    else groups.set(t.droneId, [t]);
  }
  for (const [droneId, g] of groups) {
    // Batches usually arrive in order: only a group that is not strictly ascending pays for a sort.
    let ordered = true;
    for (let i = 1; i < g.length && ordered; i++)
      ordered = (g[i] as Telemetry).sequence > (g[i - 1] as Telemetry).sequence;
    if (ordered) continue;
    const sorted = [...g].sort((a, b) => a.sequence - b.sequence);
    groups.set(
      droneId,
      sorted.filter((t, i) => i === 0 || t.sequence !== (sorted[i - 1] as Telemetry).sequence),
    );
  }
  return groups;
}

export interface DronePlan {
  /** The state to write, or undefined when nothing in the batch is newer than what is stored. */
  readonly next: DroneState | undefined;
  /** Milestones carried by the events newer than the stored state, first occurrence of each. */
  readonly milestones: readonly Milestone[];
  readonly staleEvents: number;
}

/** Given one drone's ordered events and its stored state, what moves forward. */
export function planDrone(stored: DroneState | undefined, ordered: readonly Telemetry[]): DronePlan {
  const newer = stored === undefined ? ordered : ordered.filter((t) => isNewer(stored, t));
  const seen = new Set<string>();
  const milestones: Milestone[] = [];
  for (const t of newer) {
    const m = milestoneOf(t);
    if (!m) continue;
    const key = `${m.deliveryId}/${m.name}`;
    if (seen.has(key)) continue;
    seen.add(key);
    milestones.push(m);
  }
  const latest = newer[newer.length - 1];
  return {
    next: latest ? stateFromTelemetry(latest) : undefined,
    milestones,
    staleEvents: ordered.length - newer.length,
  };
}
