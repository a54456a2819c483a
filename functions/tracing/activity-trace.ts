/**
 * How a delivery's trace context rides through the saga: the orchestration carries the intake's
 * `traceparent` as an opaque string and adds it to every activity input it schedules (the same
 * string on every replay, so the schedule stays deterministic); each activity takes it off again
 * and opens its span under it. The workflow (domain/) never sees the field.
 */
import { contextFrom, DELIVERY_ID, inSpan } from './spans';

const FIELD = 'traceparent';

export function withTraceparent(input: unknown, traceparent: string | undefined): unknown {
  if (!traceparent || !input || typeof input !== 'object' || Array.isArray(input)) return input;
  return { ...(input as Record<string, unknown>), [FIELD]: traceparent };
}

/** The activity's own input without the trace field, and the field. */
export function splitTraceparent<I>(input: unknown): { readonly input: I; readonly traceparent?: string } {
  if (!input || typeof input !== 'object' || Array.isArray(input) || !(FIELD in input)) return { input: input as I };
  const { [FIELD]: traceparent, ...rest } = input as Record<string, unknown>;
  return { input: rest as I, ...(typeof traceparent === 'string' ? { traceparent } : {}) };
}

/**
 * Runs an activity inside its span, a child of the delivery's trace. An activity runs once per
 * attempt (never on an orchestrator replay), so a retried step shows each attempt, and nothing
 * completed is emitted twice.
 */
export function tracedActivity<I, O>(name: string, raw: unknown, run: (input: I) => Promise<O>): Promise<O> {
  const { input, traceparent } = splitTraceparent<I>(raw);
  const deliveryId = input && typeof input === 'object' ? (input as { deliveryId?: unknown }).deliveryId : undefined;
  return inSpan(
    `activity ${name}`,
    {
      parent: contextFrom(traceparent),
      attributes: { 'activity.name': name, ...(typeof deliveryId === 'string' ? { [DELIVERY_ID]: deliveryId } : {}) },
    },
    () => run(input),
  );
}
