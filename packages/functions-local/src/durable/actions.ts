/**
 * Reads the actions the durable-functions SDK returns from a replay (`OrchestratorState.actions`,
 * the shapes of its `actions/*` classes) into a typed list, flattening Task.all / Task.any
 * groups in the order the SDK numbers their children. Also the retry-delay rule the Durable
 * extension applies to `callActivityWithRetry` / `callSubOrchestratorWithRetry`.
 */

/** The SDK's `ActionType` numbers. */
const ActionType = {
  CallActivity: 0,
  CallActivityWithRetry: 1,
  CallSubOrchestrator: 2,
  CallSubOrchestratorWithRetry: 3,
  ContinueAsNew: 4,
  CreateTimer: 5,
  WaitForExternalEvent: 6,
  CallEntity: 7,
  CallHttp: 8,
  SignalEntity: 9,
  WhenAny: 11,
  WhenAll: 12,
  LockEntities: 13,
  ReleaseEntities: 14,
} as const;

/** The Durable extension's retry options as the SDK sends them with `callActivityWithRetry` (not the app's RetryPolicy). */
export interface DurableRetryOptions {
  readonly firstRetryIntervalInMilliseconds: number;
  readonly maxNumberOfAttempts: number;
  readonly backoffCoefficient?: number;
  readonly maxRetryIntervalInMilliseconds?: number;
  readonly retryTimeoutInMilliseconds?: number;
}

/**
 * One thing the orchestrator asked for. Payloads are kept as JSON text (`inputJson`), the form
 * they take in history, so signatures compare exactly.
 */
export type OrchestratorAction =
  | {
      readonly kind: 'activity';
      readonly name: string;
      readonly inputJson?: string;
      readonly retry?: DurableRetryOptions;
    }
  | {
      readonly kind: 'subOrchestration';
      readonly name: string;
      readonly instanceId?: string;
      readonly inputJson?: string;
      readonly retry?: DurableRetryOptions;
    }
  | { readonly kind: 'timer'; readonly fireAt: string; readonly canceled: boolean }
  | { readonly kind: 'externalEvent'; readonly name: string }
  | { readonly kind: 'continueAsNew'; readonly inputJson?: string }
  | { readonly kind: 'unsupported'; readonly actionType: number; readonly description: string }
  /**
   * A task that was scheduled already, raced again inside a new Task.any / Task.all. The SDK
   * sends the compound with that child's action, and the Durable extension, which sees no task
   * ids in this protocol, schedules it a second time and shifts every later task id
   * (azure-functions-durable-js #574). The engine refuses it instead of hiding it.
   */
  | { readonly kind: 'reraced'; readonly description: string };

/** Whether the SDK gives this action a task id from its sequence (external events are keyed by name). */
export function takesTaskId(action: OrchestratorAction): boolean {
  switch (action.kind) {
    case 'activity':
    case 'subOrchestration':
    case 'timer':
      return true;
    case 'externalEvent':
    case 'continueAsNew':
    case 'unsupported':
    case 'reraced':
      return false;
    default: {
      const _exhaustive: never = action;
      return _exhaustive;
    }
  }
}

/** What must stay the same across replays (a timer's cancellation may change; its fire time may not). */
export function actionSignature(action: OrchestratorAction): string {
  if (action.kind === 'timer') return JSON.stringify({ kind: action.kind, fireAt: action.fireAt });
  return JSON.stringify(action);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/**
 * The SDK pre-serializes string inputs of activities and continueAsNew (`Utils.processInput`)
 * and leaves other values as they are; either way the result is the JSON text of the value.
 */
function processedInputToJson(input: unknown): string | undefined {
  if (input === undefined) return undefined;
  if (typeof input === 'string') return input;
  return JSON.stringify(input);
}

function rawInputToJson(input: unknown): string | undefined {
  return input === undefined ? undefined : JSON.stringify(input);
}

function readRetry(value: unknown): DurableRetryOptions {
  if (!isRecord(value)) throw new Error('A retry action has no retryOptions.');
  const first = value.firstRetryIntervalInMilliseconds;
  const max = value.maxNumberOfAttempts;
  if (typeof first !== 'number' || typeof max !== 'number')
    throw new Error('retryOptions lacks its interval or attempt count.');
  const optional = (key: string): number | undefined => (typeof value[key] === 'number' ? value[key] : undefined);
  const policy: { -readonly [K in keyof DurableRetryOptions]: DurableRetryOptions[K] } = {
    firstRetryIntervalInMilliseconds: first,
    maxNumberOfAttempts: max,
  };
  const coefficient = optional('backoffCoefficient');
  const maxInterval = optional('maxRetryIntervalInMilliseconds');
  const timeout = optional('retryTimeoutInMilliseconds');
  if (coefficient !== undefined) policy.backoffCoefficient = coefficient;
  if (maxInterval !== undefined) policy.maxRetryIntervalInMilliseconds = maxInterval;
  if (timeout !== undefined) policy.retryTimeoutInMilliseconds = timeout;
  return policy;
}

function str(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new Error(`Action field ${what} is not a string.`);
  return value;
}

const ID_TAKING_TYPES: ReadonlySet<number> = new Set([
  ActionType.CallActivity,
  ActionType.CallActivityWithRetry,
  ActionType.CallSubOrchestrator,
  ActionType.CallSubOrchestratorWithRetry,
  ActionType.CreateTimer,
]);

function readOne(raw: unknown, out: OrchestratorAction[], seen: Set<object>, inCompound = false): void {
  if (!isRecord(raw) || typeof raw.actionType !== 'number')
    throw new Error('The orchestrator returned an action without an actionType.');
  // A task yielded again inside a later Task.all/any brings its action object along a second
  // time; the SDK gives it no new task id. An external-event wait is harmless (it takes no id);
  // anything else would be scheduled again by the extension.
  if (seen.has(raw)) {
    if (inCompound && ID_TAKING_TYPES.has(raw.actionType)) {
      const name =
        typeof raw.functionName === 'string'
          ? ` '${raw.functionName}'`
          : raw.actionType === ActionType.CreateTimer
            ? ' (a timer)'
            : '';
      out.push({
        kind: 'reraced',
        description: `a task already scheduled${name} was raced again in a new Task.any/Task.all; the Durable extension would schedule it a second time (azure-functions-durable-js #574)`,
      });
    }
    return;
  }
  seen.add(raw);
  switch (raw.actionType) {
    case ActionType.CallActivity:
    case ActionType.CallActivityWithRetry: {
      const inputJson = processedInputToJson(raw.input);
      out.push({
        kind: 'activity',
        name: str(raw.functionName, 'functionName'),
        ...(inputJson !== undefined ? { inputJson } : {}),
        ...(raw.actionType === ActionType.CallActivityWithRetry ? { retry: readRetry(raw.retryOptions) } : {}),
      });
      return;
    }
    case ActionType.CallSubOrchestrator:
    case ActionType.CallSubOrchestratorWithRetry: {
      const inputJson = rawInputToJson(raw.input);
      out.push({
        kind: 'subOrchestration',
        name: str(raw.functionName, 'functionName'),
        ...(typeof raw.instanceId === 'string' && raw.instanceId !== '' ? { instanceId: raw.instanceId } : {}),
        ...(inputJson !== undefined ? { inputJson } : {}),
        ...(raw.actionType === ActionType.CallSubOrchestratorWithRetry ? { retry: readRetry(raw.retryOptions) } : {}),
      });
      return;
    }
    case ActionType.CreateTimer: {
      const fireAt = raw.fireAt instanceof Date ? raw.fireAt : new Date(str(raw.fireAt, 'fireAt'));
      out.push({ kind: 'timer', fireAt: fireAt.toISOString(), canceled: raw.isCanceled === true });
      return;
    }
    case ActionType.WaitForExternalEvent:
      out.push({ kind: 'externalEvent', name: str(raw.externalEventName, 'externalEventName') });
      return;
    case ActionType.ContinueAsNew: {
      const inputJson = processedInputToJson(raw.input);
      out.push({ kind: 'continueAsNew', ...(inputJson !== undefined ? { inputJson } : {}) });
      return;
    }
    case ActionType.WhenAll:
    case ActionType.WhenAny: {
      if (!Array.isArray(raw.compoundActions)) throw new Error('A Task.all/Task.any action has no compoundActions.');
      for (const child of raw.compoundActions) readOne(child, out, seen, true);
      return;
    }
    case ActionType.CallEntity:
    case ActionType.SignalEntity:
    case ActionType.LockEntities:
    case ActionType.ReleaseEntities:
      out.push({ kind: 'unsupported', actionType: raw.actionType, description: 'durable entities' });
      return;
    case ActionType.CallHttp:
      out.push({ kind: 'unsupported', actionType: raw.actionType, description: 'callHttp' });
      return;
    default:
      out.push({ kind: 'unsupported', actionType: raw.actionType, description: `action type ${raw.actionType}` });
  }
}

/**
 * Flattens `OrchestratorState.actions` (an array of groups: one group per yield in replay schema
 * V1, one group with compound actions from V2 on) into the order the SDK assigns task ids.
 */
export function readActions(raw: unknown): OrchestratorAction[] {
  const out: OrchestratorAction[] = [];
  const seen = new Set<object>();
  if (raw === undefined || raw === null) return out;
  if (!Array.isArray(raw)) throw new Error('The orchestrator returned actions that are not an array.');
  for (const group of raw) {
    if (Array.isArray(group)) for (const a of group) readOne(a, out, seen);
    else readOne(group, out, seen);
  }
  return out;
}

/**
 * The wait after failed attempt `attempt` (1-based), as the Durable extension computes it:
 * first interval × coefficient^(attempt-1), capped by the maximum interval.
 */
export function retryDelayMs(policy: DurableRetryOptions, attempt: number): number {
  const coefficient = policy.backoffCoefficient ?? 1;
  const delay = policy.firstRetryIntervalInMilliseconds * Math.pow(coefficient, Math.max(0, attempt - 1));
  const cap = policy.maxRetryIntervalInMilliseconds;
  return cap !== undefined && cap > 0 ? Math.min(delay, cap) : delay;
}
