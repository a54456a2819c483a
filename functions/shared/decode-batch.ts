/**
 * The first half of every hub consumer: decode each body of an Event Hubs batch, dead-letter
 * the poison with its origin (retried; if a dead letter cannot be stored the batch fails and is
 * redelivered, so nothing is lost) and hand back the valid ones. The rest of the batch goes on.
 */
import type { Poison } from '../../domain/shared/body';
import { withRetry } from '../resilience/retry';
import type { RetryPolicy } from '../../domain/shared/retry';
import type { DeadLetterReason, DeadLetterSink, EventOrigin } from '../../domain/shared/ports';

export const utf8 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');

export interface DecodeBatchDeps {
  readonly deadLetters: DeadLetterSink;
  readonly retry: RetryPolicy;
  readonly now: () => Date;
  readonly wait?: (ms: number) => Promise<void>;
  readonly log?: (entry: Record<string, unknown>) => void;
}

export async function decodeBatch<T>(
  source: string,
  bodies: readonly unknown[],
  origins: readonly EventOrigin[],
  decode: (body: unknown) => { readonly ok: true; readonly value: T } | Poison<DeadLetterReason>,
  deps: DecodeBatchDeps,
): Promise<{ valid: T[]; deadLettered: number }> {
  const at = deps.now().toISOString();
  const valid: T[] = [];
  const poison: Promise<void>[] = [];
  bodies.forEach((body, i) => {
    const decoded = decode(body);
    if (decoded.ok) {
      valid.push(decoded.value);
      return;
    }
    const origin = origins[i] ?? { eventHubName: source };
    deps.log?.({ event: `${source}.deadLettered`, reason: decoded.reason, firstError: decoded.errors[0], ...origin });
    const { reason, errors, rawBody, rawBodyEncoding } = decoded;
    poison.push(
      withRetry(
        () => deps.deadLetters.put({ source, reason, errors, rawBody, rawBodyEncoding, origin, deadLetteredAt: at }),
        deps.retry,
        deps.wait,
      ),
    );
  });
  await Promise.all(poison);
  return { valid, deadLettered: poison.length };
}
