/**
 * Recent spans in memory, for the local runtime's trace view (GET /api/ops/deliveries/{id}/trace):
 * a span processor that keeps the last `capacity` finished spans in a ring buffer, as plain
 * records. Bounded on purpose: a local run with the simulator produces spans for hours.
 * In Azure there is no store; traces live in Application Insights.
 */
import { hrTimeToMilliseconds } from '@opentelemetry/core';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';

export interface SpanRecord {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly kind: 'internal' | 'server' | 'client' | 'producer' | 'consumer';
  readonly startTime: string;
  readonly endTime: string;
  readonly durationMs: number;
  readonly status: 'unset' | 'ok' | 'error';
  readonly statusMessage?: string;
  readonly attributes: Readonly<Record<string, string | number | boolean>>;
  readonly links: readonly { readonly traceId: string; readonly spanId: string }[];
}

const KINDS: Record<SpanKind, SpanRecord['kind']> = {
  [SpanKind.INTERNAL]: 'internal',
  [SpanKind.SERVER]: 'server',
  [SpanKind.CLIENT]: 'client',
  [SpanKind.PRODUCER]: 'producer',
  [SpanKind.CONSUMER]: 'consumer',
};

function toRecord(span: ReadableSpan): SpanRecord {
  const sc = span.spanContext();
  const start = hrTimeToMilliseconds(span.startTime);
  const end = hrTimeToMilliseconds(span.endTime);
  const attributes: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(span.attributes)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') attributes[k] = v;
    else if (Array.isArray(v)) attributes[k] = v.join(',');
  }
  const status =
    span.status.code === SpanStatusCode.ERROR ? 'error' : span.status.code === SpanStatusCode.OK ? 'ok' : 'unset';
  return {
    traceId: sc.traceId,
    spanId: sc.spanId,
    ...(span.parentSpanContext ? { parentSpanId: span.parentSpanContext.spanId } : {}),
    name: span.name,
    kind: KINDS[span.kind],
    startTime: new Date(start).toISOString(),
    endTime: new Date(end).toISOString(),
    durationMs: Math.round((end - start) * 1000) / 1000,
    status,
    ...(span.status.message ? { statusMessage: span.status.message } : {}),
    attributes,
    links: span.links.map((l) => ({ traceId: l.context.traceId, spanId: l.context.spanId })),
  };
}

export class SpanStore implements SpanProcessor {
  private readonly ring: (SpanRecord | undefined)[];
  private next = 0;

  constructor(readonly capacity: number) {
    this.ring = new Array<SpanRecord | undefined>(capacity);
  }

  onStart(_span: Span, _parent: Context): void {}

  onEnd(span: ReadableSpan): void {
    this.ring[this.next % this.capacity] = toRecord(span);
    this.next += 1;
  }

  async forceFlush(): Promise<void> {}

  async shutdown(): Promise<void> {}

  /** Every span kept, oldest first. */
  all(): SpanRecord[] {
    const kept = Math.min(this.next, this.capacity);
    const out: SpanRecord[] = [];
    for (let i = this.next - kept; i < this.next; i++) {
      const r = this.ring[i % this.capacity];
      if (r) out.push(r);
    }
    return out;
  }

  /**
   * A delivery's trace: every span of each trace that has a span tagged with the delivery, plus
   * the batch spans of other traces that link into it (a projector batch of several deliveries),
   * ordered by start time.
   */
  traceOf(attribute: string, value: string): { traceIds: string[]; spans: SpanRecord[] } {
    const spans = this.all();
    const traceIds = [...new Set(spans.filter((s) => s.attributes[attribute] === value).map((s) => s.traceId))];
    const inTrace = new Set(traceIds);
    const found = spans.filter((s) => inTrace.has(s.traceId) || s.links.some((l) => inTrace.has(l.traceId)));
    found.sort((a, b) => a.startTime.localeCompare(b.startTime) || a.spanId.localeCompare(b.spanId));
    return { traceIds, spans: found };
  }
}
