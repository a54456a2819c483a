/**
 * The engine's public vocabulary: its options, the refusals it reports, what instance queries
 * return, and the handles of its test controls. Kept apart from the engine so that the modules
 * that carry out its duties (instances, episodes, work, persistence) share one set of types.
 */
import type { RegisteredFunction, FunctionRegistry } from '../core/functions-core';
import type { Clock } from '../clock';
import type { FriendlyHistoryEvent } from './history';
import type { InstanceStore, RuntimeStatus } from './store';

export type DurableEngineErrorCode =
  'InstanceExists' | 'InstanceNotFound' | 'InstanceGone' | 'OrchestratorNotFound' | 'NotTerminal';

/** Expected refusals carry a stable code; the HTTP API maps them to status codes. */
export class DurableEngineError extends Error {
  readonly code: DurableEngineErrorCode;

  constructor(code: DurableEngineErrorCode, message: string) {
    super(message);
    this.name = 'DurableEngineError';
    this.code = code;
  }
}

export interface ActivityInvocation {
  readonly instanceId: string;
  readonly taskId: number;
  /** 1 for the first attempt of a retried call, then 2, 3, … */
  readonly attempt: number;
}

/**
 * Calls a registered activity's handler. The default builds a host-shaped InvocationContext;
 * a local runtime passes its own to carry out the activity's extra input/output bindings.
 */
export type ActivityInvoker = (
  fn: RegisteredFunction,
  input: unknown,
  invocation: ActivityInvocation,
) => Promise<unknown>;

export interface DurableEngineOptions {
  /** Defaults to the functions-core registry (everything registered in this process). */
  readonly registry?: FunctionRegistry;
  /** Defaults to an in-memory store. */
  readonly store?: InstanceStore;
  /** Defaults to the real clock. */
  readonly clock?: Clock;
  /** host.json `maxConcurrentActivityFunctions`; defaults to 10. */
  readonly maxConcurrentActivities?: number;
  readonly invokeActivity?: ActivityInvoker;
  readonly log?: (message: string) => void;
  /**
   * How queued events reach the orchestrator: 'batch' (default) hands it everything queued since
   * its last episode at once, as the Durable extension does; 'single' plays one per episode.
   */
  readonly eventDelivery?: EventDelivery;
  /** Test control: an activity's result may be lost after it ran; it then runs again. */
  readonly loseResult?: (invocation: ActivityRun) => boolean;
}

export type EventDelivery = 'batch' | 'single';

/** One run of an activity, as the test controls see it. */
export interface ActivityRun extends ActivityInvocation {
  readonly name: string;
}

/** Results of matching activities wait until `release()`; the activities themselves have run. */
export interface ResultHold {
  /** How many results are waiting. */
  readonly held: number;
  /** Lets every held result through (and any later one), in the order they were held. */
  release(): Promise<void>;
}

export interface StartOptions {
  readonly instanceId?: string;
  readonly input?: unknown;
}

export interface StatusOptions {
  readonly showHistory?: boolean;
  readonly showHistoryOutput?: boolean;
  /** Defaults to true, as in the Durable extension. */
  readonly showInput?: boolean;
}

export interface InstanceStatus {
  readonly name: string;
  readonly instanceId: string;
  readonly runtimeStatus: RuntimeStatus;
  readonly input: unknown;
  readonly output: unknown;
  readonly customStatus: unknown;
  readonly createdTime: string;
  readonly lastUpdatedTime: string;
  readonly history?: FriendlyHistoryEvent[];
}

export interface InstanceQuery {
  readonly runtimeStatus?: readonly RuntimeStatus[];
  readonly createdTimeFrom?: Date;
  readonly createdTimeTo?: Date;
  /** Only instances not updated since then (the supervisor's "stuck" question). */
  readonly lastUpdatedTimeTo?: Date;
  readonly instanceIdPrefix?: string;
  readonly showInput?: boolean;
}

export interface DeterminismReport {
  readonly instanceId: string;
  readonly deterministic: boolean;
  readonly recordedActions: string[];
  readonly replayedActions: string[];
  /** Index of the first differing action, when the action lists differ. */
  readonly mismatchAt?: number;
  readonly recordedOutput?: unknown;
  readonly replayedOutput?: unknown;
}

export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export const ORCHESTRATION_TRIGGER = 'orchestrationTrigger';
export const ACTIVITY_TRIGGER = 'activityTrigger';

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
