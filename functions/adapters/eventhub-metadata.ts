import type { EventOrigin } from '../../domain/shared/ports';
/**
 * Reads the Functions host's Event Hubs batch trigger metadata (cardinality many) into one
 * origin per event. The library camel-cases the host's keys: `partitionContext`,
 * `sequenceNumberArray`, `offsetArray`, `enqueuedTimeUtcArray`, `partitionKeyArray`,
 * `systemPropertiesArray`.
 */

type Meta = Record<string, unknown> | undefined;

const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
const num = (v: unknown): number | undefined => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
};
const date = (v: unknown): string | undefined => {
  if (v instanceof Date) return v.toISOString();
  const s = str(v);
  if (s === undefined) return undefined;
  const t = Date.parse(s);
  return Number.isFinite(t) ? new Date(t).toISOString() : s;
};

export function originsFrom(meta: Meta, count: number, fallbackHub: string): EventOrigin[] {
  const pc = (meta?.partitionContext ?? {}) as Record<string, unknown>;
  const seq = arr(meta?.sequenceNumberArray);
  const off = arr(meta?.offsetArray);
  const enq = arr(meta?.enqueuedTimeUtcArray);
  const keys = arr(meta?.partitionKeyArray);
  const sys = arr(meta?.systemPropertiesArray) as Record<string, unknown>[];
  const origins: EventOrigin[] = [];
  for (let i = 0; i < count; i++) {
    const s = sys[i] ?? {};
    const o: Record<string, unknown> = {
      eventHubName: str(pc.eventHubName) ?? fallbackHub,
      consumerGroup: str(pc.consumerGroup),
      partitionId: str(pc.partitionId),
      sequenceNumber: num(seq[i] ?? s['x-opt-sequence-number'] ?? s.sequenceNumber),
      offset: str(off[i] ?? s['x-opt-offset'] ?? s.offset),
      enqueuedTimeUtc: date(enq[i] ?? s['x-opt-enqueued-time'] ?? s.enqueuedTimeUtc),
      partitionKey: str(keys[i] ?? s['x-opt-partition-key'] ?? s.partitionKey),
    };
    for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
    origins.push(o as unknown as EventOrigin);
  }
  return origins;
}
