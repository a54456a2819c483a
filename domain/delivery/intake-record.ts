/**
 * What an intake record's state means for its delivery, pure. A record counts its delivery in
 * flight while active; its outcome says how it stopped. "Never started" is the one outcome
 * written by someone who did not see the saga (the intake whose start failed, or a supervisor
 * past the start grace), so it is the one a later sign of the saga overrules.
 */
import type { IntakeRecord } from './ports';

/** The outcome of an intake whose saga was not seen to start. */
export const NOT_STARTED = 'NotStarted';

/**
 * The outcome of an intake whose saga had been seen to start and is gone (its history purged)
 * while the record was still open: the delivery is over, how is no longer known.
 */
export const SAGA_GONE = 'SagaGone';

/** Closed by someone who did not see the saga: if the saga exists after all, this is wrong. */
export const closedUnstarted = (r: Pick<IntakeRecord, 'active' | 'outcome'>): boolean =>
  !r.active && r.outcome === NOT_STARTED;

/**
 * Whether the record settles its saga (whoever closed it had finished): closed, and not as
 * never started, which says nothing about a saga that exists.
 */
export const settlesSaga = (r: Pick<IntakeRecord, 'active' | 'outcome'>): boolean => !r.active && !closedUnstarted(r);
