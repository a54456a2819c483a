/**
 * The supervisor's verdict on one saga, pure: given what the durable runtime and the saga's
 * own progress say, and the time, what to do. Acting twice on the same verdict is harmless
 * (raising a cancel twice, starting a recovery that already exists), so two supervisors at
 * once do no harm.
 */
import type { SagaProgress } from './saga';

/** The runtime statuses of a durable instance, as the Durable extension names them. */
export const RUNTIME_STATUSES = [
  'Pending',
  'Running',
  'Completed',
  'ContinuedAsNew',
  'Failed',
  'Terminated',
  'Suspended',
] as const;
/** `Unknown`: a status the extension reported that is not one of those. */
export type RuntimeStatus = (typeof RUNTIME_STATUSES)[number] | 'Unknown';

export interface SagaSnapshot {
  readonly instanceId: string;
  readonly runtimeStatus: RuntimeStatus;
  readonly createdAt: Date;
  readonly lastUpdatedAt: Date;
  readonly progress?: SagaProgress;
  /** Whether a recovery orchestration already exists for this saga (in any state: one is never started twice). */
  readonly recoveryExists: boolean;
  /** The recovery's own runtime status, when it exists. */
  readonly recoveryStatus?: RuntimeStatus;
  /** Whether the delivery's intake is closed: whoever closed it (saga or recovery) had finished. */
  readonly intakeClosed?: boolean;
  /** When a supervisor last asked this saga to compensate itself (kept with the intake record). */
  readonly supervisorRequestedAt?: Date;
}

export interface SupervisorPolicy {
  /** Slack past a saga's complete-by before the supervisor steps in. */
  readonly graceMs: number;
  /** How long a saga asked to stop may take before the supervisor escalates. */
  readonly escalateAfterMs: number;
  /** How long an instance may stay Pending before it is reported. */
  readonly pendingTooLongMs: number;
}

export type Verdict =
  | { readonly action: 'none' }
  /** Ask the running saga to stop and compensate itself (it listens for this). */
  | { readonly action: 'requestCompensation'; readonly reason: string }
  /** The saga died holding resources: a recovery orchestration compensates for it. */
  | { readonly action: 'recover'; readonly reason: string }
  /** Resume a suspended saga. */
  | { readonly action: 'resume'; readonly reason: string }
  /** Nothing safe to do automatically: tell a human. */
  | { readonly action: 'alert'; readonly reason: string };

export function superviseSaga(s: SagaSnapshot, now: Date, policy: SupervisorPolicy): Verdict {
  const progress = s.progress;
  const stage = progress?.stage;
  const due = progress ? Date.parse(progress.completeBy) + policy.graceMs : undefined;
  switch (s.runtimeStatus) {
    case 'Completed':
    case 'ContinuedAsNew':
      return { action: 'none' };
    case 'Suspended':
      return { action: 'resume', reason: 'saga was suspended' };
    case 'Pending':
      return now.getTime() - s.createdAt.getTime() > policy.pendingTooLongMs
        ? { action: 'alert', reason: `pending since ${s.createdAt.toISOString()}` }
        : { action: 'none' };
    case 'Failed':
    case 'Terminated':
    case 'Unknown': {
      if (progress?.finished || s.intakeClosed) return { action: 'none' };
      if (s.recoveryExists) {
        return s.recoveryStatus === 'Failed' || s.recoveryStatus === 'Terminated'
          ? { action: 'alert', reason: `its recovery ${s.recoveryStatus.toLowerCase()} too` }
          : { action: 'none' };
      }
      if (!progress)
        return { action: 'alert', reason: `saga ${s.runtimeStatus.toLowerCase()} before reporting progress` };
      return { action: 'recover', reason: `saga ${s.runtimeStatus.toLowerCase()} at stage ${stage}` };
    }
    case 'Running': {
      if (due === undefined || now.getTime() <= due) return { action: 'none' };
      if (s.supervisorRequestedAt === undefined) {
        return { action: 'requestCompensation', reason: `past its complete-by time ${progress?.completeBy}` };
      }
      const askedAt = s.supervisorRequestedAt.getTime();
      return now.getTime() - askedAt > policy.escalateAfterMs
        ? {
            action: 'alert',
            reason: `still running ${Math.round((now.getTime() - askedAt) / 1000)} s after it was asked to compensate`,
          }
        : { action: 'none' };
    }
    default: {
      const _exhaustive: never = s.runtimeStatus;
      return _exhaustive;
    }
  }
}
