/**
 * Spans of the Event Hubs batch triggers: one span per batch (never one per event), linked to
 * every event's own context (its `traceparent` application property).
 *
 * Where the batch span hangs: when every event that carries a context belongs to one trace (the
 * usual projector batch: one delivery's events from one partition), the span is a child in that
 * trace, so the delivery's trace runs from its intake request to the projector's write without
 * a hop through links; otherwise it hangs under the host's invocation span (Azure) or starts its
 * own trace, and only links to the events. The projector's per-delivery write spans
 * (`deliverySpanOptions`) always sit in their delivery's trace, linked to the batch span when
 * that is elsewhere, so one delivery is one trace whatever the batching.
 */
import { context as otelContext, trace } from '@opentelemetry/api';
import type { Attributes, Span } from '@opentelemetry/api';
import { contextFrom, DELIVERY_ID, inSpan, invocationParent, linksTo, spanContextOf, SpanKind } from './spans';
import type { SpanOptions } from './spans';

type Meta = Record<string, unknown> | undefined;

/** Each event's `traceparent` application property, by position in the batch. */
export function eventTraceparents(meta: Meta, count: number): (string | undefined)[] {
  const props = Array.isArray(meta?.propertiesArray) ? (meta.propertiesArray as unknown[]) : [];
  return Array.from({ length: count }, (_, i) => {
    const p = props[i];
    const tp = p && typeof p === 'object' ? (p as Record<string, unknown>).traceparent : undefined;
    return typeof tp === 'string' ? tp : undefined;
  });
}

/** The first `traceparent` per partition key (delivery events are keyed by delivery id, CONTRACT §3). */
export function traceparentsByKey(meta: Meta, traceparents: readonly (string | undefined)[]): Map<string, string> {
  const keys = Array.isArray(meta?.partitionKeyArray) ? (meta.partitionKeyArray as unknown[]) : [];
  const byKey = new Map<string, string>();
  traceparents.forEach((tp, i) => {
    const key = keys[i];
    if (tp && typeof key === 'string' && !byKey.has(key)) byKey.set(key, tp);
  });
  return byKey;
}

export interface BatchInvocation {
  readonly triggerMetadata?: Meta;
  readonly traceContext?: { traceParent?: string | null; traceState?: string | null } | undefined;
}

/** Runs a batch trigger's work inside its batch span (see the module comment for the parent). */
export function inBatchSpan<T>(
  name: string,
  invocation: BatchInvocation,
  count: number,
  attributes: Attributes,
  work: (span: Span, traceparents: readonly (string | undefined)[]) => Promise<T>,
): Promise<T> {
  const traceparents = eventTraceparents(invocation.triggerMetadata, count);
  const traceIds = new Set(
    traceparents.map((tp) => spanContextOf(tp)?.traceId).filter((id): id is string => id !== undefined),
  );
  const shared = traceIds.size === 1 ? traceparents.find((tp) => spanContextOf(tp) !== undefined) : undefined;
  const host = invocationParent(invocation.traceContext);
  const links = linksTo(traceparents);
  const hostSpan = host ? trace.getSpanContext(host) : undefined;
  if (shared && hostSpan) links.push({ context: hostSpan, attributes: { 'link.reason': 'host invocation' } });
  const options: SpanOptions = {
    parent: shared ? contextFrom(shared) : host,
    kind: SpanKind.CONSUMER,
    attributes: { 'messaging.system': 'eventhubs', 'messaging.batch.message_count': count, ...attributes },
    links,
  };
  return inSpan(name, options, (span) => work(span, traceparents));
}

/** A projector write span for one delivery, in that delivery's trace (to be opened inside the batch span). */
export function deliverySpanOptions(batch: Span, deliveryId: string, traceparent: string | undefined): SpanOptions {
  const own = spanContextOf(traceparent);
  const inBatchTrace = !own || own.traceId === batch.spanContext().traceId;
  return {
    parent: inBatchTrace ? otelContext.active() : contextFrom(traceparent),
    attributes: { [DELIVERY_ID]: deliveryId },
    ...(inBatchTrace
      ? {}
      : { links: [{ context: batch.spanContext(), attributes: { 'link.reason': 'projector batch' } }] }),
  };
}
