/**
 * The intake use case (docs/contract.md §1 `POST /api/deliveries`): validate, apply identity, bound the
 * sagas in flight, and start exactly one saga per delivery id. The intake record (created only
 * if absent) is the guard against concurrent duplicates; the saga is started when the record is
 * new, or when a retry finds the record but no saga (a crash between the two).
 */
import {
  canonicalRequest,
  MAX_REQUEST_BODY_BYTES,
  normalizeRequest,
  validateRequestBody,
} from '../../domain/delivery/request';
import type { SlaSettings } from '../../domain/delivery/saga';
import type { Caller } from '../../domain/shared/caller';
import { err, ok, validationFailed } from '../../domain/shared/errors';
import type { DomainError, Result } from '../../domain/shared/errors';
import type { RetryPolicy } from '../../domain/shared/retry';
import { ORCHESTRATIONS } from '../names';
import type { SagaInput } from './contracts';
import type { IntakeRecord, IntakeRecords, Sagas } from '../../domain/delivery/ports';
import { closedUnstarted } from '../../domain/delivery/intake-record';

export interface IntakeDeps {
  readonly intakes: IntakeRecords;
  readonly sagas: Sagas;
  readonly inFlight: () => Promise<number>;
  readonly maxInFlight: number;
  readonly sla: SlaSettings;
  readonly retry: RetryPolicy;
  readonly now: () => Date;
  readonly newId: () => string;
  /** The intake request's trace context, handed to the saga so one delivery is one trace. */
  readonly traceparent?: string;
}

export interface Accepted {
  readonly deliveryId: string;
  /** False when this request repeated an earlier one. */
  readonly created: boolean;
}

export const RETRY_AFTER_SECONDS = 5;

export async function requestDelivery(
  rawBody: string,
  caller: Caller,
  deps: IntakeDeps,
): Promise<Result<Accepted, DomainError>> {
  if (Buffer.byteLength(rawBody, 'utf8') > MAX_REQUEST_BODY_BYTES) {
    return err(
      validationFailed('The delivery request is not valid.', [
        { path: '/', message: `body exceeds ${MAX_REQUEST_BODY_BYTES} bytes` },
      ]),
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(rawBody);
  } catch (e) {
    return err(validationFailed('The body is not valid JSON.', [{ path: '/', message: (e as Error).message }]));
  }
  const body = validateRequestBody(parsed);
  if (!body.ok) return body;
  const normalized = normalizeRequest(body.value, caller, deps.newId);
  if (!normalized.ok) return normalized;
  const { deliveryId, data } = normalized.value;
  const canonical = canonicalRequest(normalized.value);

  const existing = await deps.intakes.get(deliveryId);
  if (existing) return repeat(existing, canonical, deliveryId, deps, data);

  if ((await deps.inFlight()) >= deps.maxInFlight) {
    return err({
      code: 'Throttled',
      message: `more than ${deps.maxInFlight} deliveries are in flight; try again shortly`,
      retryAfterSeconds: RETRY_AFTER_SECONDS,
    });
  }
  const requestedAt = deps.now().toISOString();
  const { created, record } = await deps.intakes.createOrGet({
    deliveryId,
    ownerId: data.ownerId,
    canonical,
    requestedAt,
    active: true,
  });
  if (!created) return repeat(record, canonical, deliveryId, deps, data);
  await startSaga(deliveryId, data, deps, requestedAt);
  return ok({ deliveryId, created: true });
}

async function repeat(
  stored: IntakeRecord,
  canonical: string,
  deliveryId: string,
  deps: IntakeDeps,
  data: SagaInput['request'],
): Promise<Result<Accepted, DomainError>> {
  // The canonical form includes the owner, so another caller's request never counts as "the same".
  if (stored.canonical !== canonical) {
    return err({ code: 'Conflict', message: `delivery ${deliveryId} already exists with a different request` });
  }
  // The same request again: make sure its saga exists (the first attempt may have died before
  // starting it). One that exists with no start marked is marked: a start taken for failed, or
  // a request that died before its mark, may have let someone close the record meanwhile. A
  // record closed with an outcome is a delivery that is over (its saga since purged): nothing
  // starts again.
  if (await deps.sagas.status(deliveryId)) {
    if (stored.sagaStartedAt === undefined) await deps.intakes.markSagaStarted(deliveryId, deps.now().toISOString());
  } else if (stored.active || closedUnstarted(stored)) {
    const stamp = stored.active ? stored.requestedAt : deps.now().toISOString();
    if (!stored.active) await deps.intakes.reopen(deliveryId, stamp);
    await startSaga(deliveryId, data, deps, stamp);
  }
  return ok({ deliveryId, created: false });
}

/**
 * A start that fails gives the in-flight slot back once the engine answers that there is no
 * such saga (the start may have reached it and only its answer been lost); the caller's retry
 * of the same request reopens it. If the engine cannot answer that either, the record stays
 * open (or is reopened) and unmarked, for a supervisor run to check after the start grace.
 * Whoever looked before a start and closed the record meanwhile (a supervisor, or a concurrent
 * retry whose own start failed) is undone by the mark after it.
 */
async function startSaga(
  deliveryId: string,
  request: SagaInput['request'],
  deps: IntakeDeps,
  /** The record's `requestedAt` as this request wrote or read it. */
  stamp: string,
): Promise<void> {
  const input: SagaInput = {
    deliveryId,
    correlationId: deliveryId,
    request,
    sla: deps.sla,
    retry: deps.retry,
    ...(deps.traceparent ? { traceparent: deps.traceparent } : {}),
  };
  try {
    await deps.sagas.start(ORCHESTRATIONS.deliverySaga, deliveryId, input);
  } catch (e) {
    const saga = await deps.sagas.status(deliveryId).then(
      (found) => (found ? 'exists' : 'absent'),
      () => 'unknown',
    );
    // Not if another request has stamped the record afresh since: its start may have created
    // the saga after this look.
    if (saga === 'absent') await deps.intakes.closeUnstarted(deliveryId, stamp).catch(() => undefined);
    // In doubt, in flight: the record is stamped afresh (reopened if someone closed it as never
    // started meanwhile), so a request that looked before this start does not close it.
    if (saga === 'unknown') await deps.intakes.reopen(deliveryId, deps.now().toISOString()).catch(() => undefined);
    if (saga !== 'exists') throw e;
  }
  // So the supervisor need not check this start. The saga runs whether or not the mark lands; an
  // unmarked record is checked by the next supervisor run instead, which marks it then.
  await deps.intakes.markSagaStarted(deliveryId, deps.now().toISOString()).catch(() => undefined);
}
