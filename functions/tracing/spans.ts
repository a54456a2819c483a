/**
 * The app's side of tracing, on the OpenTelemetry API only (the SDK is set up once, in
 * tracing/bootstrap.ts, by the composition root). It owns the W3C `traceparent` strings that
 * cross process boundaries (the saga's input, every activity input, each delivery event's
 * Event Hubs application property) and the spans the triggers open around their work.
 *
 * Trigger spans get an explicit parent, never the ambient context: an invocation's parent is
 * the host's (Azure passes it as `context.traceContext`), a caller's `traceparent` header, or
 * the `traceparent` its input carries. Orchestrators open no spans at all: their code replays,
 * and a span there would be emitted again on every replay.
 */
import {
  context as otelContext,
  defaultTextMapGetter,
  defaultTextMapSetter,
  isSpanContextValid,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import type { Attributes, Context, Link, Span, SpanContext } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

export const TRACER_NAME = 'fabrikam-drone-delivery';

/** The attribute every delivery-scoped span carries, by which a delivery's trace is found. */
export const DELIVERY_ID = 'delivery.id';

const w3c = new W3CTraceContextPropagator();

const tracer = () => trace.getTracer(TRACER_NAME);

/** The remote context a `traceparent` names, or undefined for an absent or malformed one. */
export function contextFrom(traceparent: string | undefined, tracestate?: string): Context | undefined {
  if (!traceparent) return undefined;
  const carrier: Record<string, string> = { traceparent, ...(tracestate ? { tracestate } : {}) };
  const ctx = w3c.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
  const span = trace.getSpanContext(ctx);
  return span && isSpanContextValid(span) ? ctx : undefined;
}

/** The `traceparent` of a context (the active one by default); undefined when it has no valid span. */
export function traceparentOf(ctx: Context = otelContext.active()): string | undefined {
  const span = trace.getSpanContext(ctx);
  if (!span || !isSpanContextValid(span)) return undefined;
  const carrier: Record<string, string> = {};
  w3c.inject(ctx, carrier, defaultTextMapSetter);
  return carrier.traceparent;
}

export function spanContextOf(traceparent: string | undefined): SpanContext | undefined {
  const ctx = contextFrom(traceparent);
  return ctx ? trace.getSpanContext(ctx) : undefined;
}

/** One link per distinct context among `traceparents` (a batch's events), malformed ones skipped. */
export function linksTo(traceparents: readonly (string | undefined)[]): Link[] {
  const seen = new Set<string>();
  const links: Link[] = [];
  for (const tp of traceparents) {
    const sc = spanContextOf(tp);
    if (!sc || seen.has(sc.spanId)) continue;
    seen.add(sc.spanId);
    links.push({ context: sc });
  }
  return links;
}

/** Where an invocation's span hangs: under the host's invocation span in Azure, else under the caller's `traceparent`. */
export function invocationParent(
  traceContext: { traceParent?: string | null; traceState?: string | null } | undefined,
  header?: string | null,
): Context | undefined {
  return (
    contextFrom(traceContext?.traceParent ?? undefined, traceContext?.traceState ?? undefined) ??
    contextFrom(header ?? undefined)
  );
}

export interface SpanOptions {
  /** The parent; a new trace when absent. */
  readonly parent?: Context | undefined;
  readonly kind?: SpanKind;
  readonly attributes?: Attributes;
  readonly links?: Link[];
}

/**
 * Runs `work` inside a new active span and ends it when `work` settles; a throw marks the span
 * failed and is rethrown. The span is active for `work`, so spans opened inside are its children.
 */
export function inSpan<T>(name: string, options: SpanOptions, work: (span: Span) => Promise<T>): Promise<T> {
  const parent = options.parent ?? ROOT_CONTEXT;
  return tracer().startActiveSpan(
    name,
    {
      kind: options.kind ?? SpanKind.INTERNAL,
      ...(options.attributes ? { attributes: options.attributes } : {}),
      ...(options.links ? { links: options.links } : {}),
    },
    parent,
    async (span) => {
      try {
        return await work(span);
      } catch (e) {
        span.recordException(e instanceof Error ? e : String(e));
        span.setStatus({ code: SpanStatusCode.ERROR, message: e instanceof Error ? e.message : String(e) });
        throw e;
      } finally {
        span.end();
      }
    },
  );
}

/** Runs `work` as a child of the active span (inside a trigger's span). */
export function inChildSpan<T>(name: string, attributes: Attributes, work: (span: Span) => Promise<T>): Promise<T> {
  return inSpan(name, { parent: otelContext.active(), attributes }, work);
}

export { SpanKind };
