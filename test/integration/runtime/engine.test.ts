/**
 * The orchestration engine runs real durable-functions orchestrators and activities, registered
 * through `df.app.*`, on a virtual clock: sequences, failures, retries (with the SDK's timer
 * after every failed attempt), timers, external events, fan-out, sub-orchestrations,
 * continueAsNew, custom status, termination, duplicate starts and determinism.
 */
import '../../support/install-core';
import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler } from 'durable-functions';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DurableEngine,
  DurableEngineError,
  realClock,
  VirtualClock,
} from '../../../packages/functions-local/src/durable';
import type { HistoryEvent } from '../../../packages/functions-local/src/durable';

const T0 = Date.UTC(2026, 0, 1, 8, 0, 0);

// ---------------------------------------------------------------- activities

df.app.activity('rtEngGreet', { handler: (name: unknown) => `Hello ${String(name)}` });
df.app.activity('rtEngDouble', { handler: (n: unknown) => Number(n) * 2 });
df.app.activity('rtEngBoom', {
  handler: (why: unknown) => {
    throw new Error(`boom: ${String(why)}`);
  },
});

/** Fails its first `failFirst` calls per key, then succeeds; counts attempts. */
const flakyAttempts = new Map<string, number>();
df.app.activity('rtEngFlaky', {
  handler: (input: unknown) => {
    const { key, failFirst } = input as { key: string; failFirst: number };
    const attempt = (flakyAttempts.get(key) ?? 0) + 1;
    flakyAttempts.set(key, attempt);
    if (attempt <= failFirst) throw new Error(`transient failure ${attempt}`);
    return { key, attempt };
  },
});

let concurrent = 0;
let peakConcurrent = 0;
df.app.activity('rtEngSlowSquare', {
  handler: async (n: unknown) => {
    concurrent++;
    peakConcurrent = Math.max(peakConcurrent, concurrent);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    concurrent--;
    return Number(n) * Number(n);
  },
});

// ---------------------------------------------------------------- orchestrators

df.app.orchestration('rtEngSequence', function* (context: OrchestrationContext) {
  const names = context.df.getInput<string[]>();
  const out: string[] = [];
  for (const name of names) out.push(yield context.df.callActivity('rtEngGreet', name));
  return out;
});

df.app.orchestration('rtEngCatch', function* (context: OrchestrationContext) {
  try {
    yield context.df.callActivity('rtEngBoom', 'first');
    return 'not reached';
  } catch (err) {
    const compensated: string = yield context.df.callActivity('rtEngGreet', 'compensation');
    return { caught: (err as Error).message, compensated };
  }
});

df.app.orchestration('rtEngUncaught', function* (context: OrchestrationContext) {
  yield context.df.callActivity('rtEngBoom', 'unhandled');
});

df.app.orchestration('rtEngRetry', function* (context: OrchestrationContext) {
  const input = context.df.getInput<{ key: string; failFirst: number; attempts: number }>();
  const retry = new df.RetryOptions(1000, input.attempts);
  retry.backoffCoefficient = 2;
  retry.maxRetryIntervalInMilliseconds = 3000;
  try {
    const result: unknown = yield context.df.callActivityWithRetry('rtEngFlaky', retry, {
      key: input.key,
      failFirst: input.failFirst,
    });
    const after: string = yield context.df.callActivity('rtEngGreet', 'after');
    return { result, after };
  } catch (err) {
    const compensated: string = yield context.df.callActivity('rtEngGreet', 'compensate');
    return { gaveUp: (err as Error).message, compensated };
  }
});

df.app.orchestration('rtEngTimer', function* (context: OrchestrationContext) {
  const start = context.df.currentUtcDateTime.getTime();
  yield context.df.createTimer(new Date(start + 60 * 60 * 1000));
  const greeting: string = yield context.df.callActivity('rtEngGreet', 'after the hour');
  return { greeting, at: context.df.currentUtcDateTime.toISOString() };
});

const approvalRace: OrchestrationHandler = function* (context: OrchestrationContext) {
  const deadline = new Date(context.df.currentUtcDateTime.getTime() + 30 * 60 * 1000);
  const timeout = context.df.createTimer(deadline);
  const approval = context.df.waitForExternalEvent('Approval');
  const winner: unknown = yield context.df.Task.any([approval, timeout]);
  if (winner === approval) {
    timeout.cancel();
    return { approved: approval.result };
  }
  return { approved: false, reason: 'timed out' };
};
df.app.orchestration('rtEngApproval', approvalRace);

df.app.orchestration('rtEngFanOut', function* (context: OrchestrationContext) {
  const n = context.df.getInput<number>();
  const tasks = Array.from({ length: n }, (_, i) => context.df.callActivity('rtEngSlowSquare', i + 1));
  const squares: number[] = yield context.df.Task.all(tasks);
  return squares.reduce((a, b) => a + b, 0);
});

df.app.orchestration('rtEngChild', function* (context: OrchestrationContext) {
  const n = context.df.getInput<number>();
  if (n < 0) throw new Error('negative input');
  const doubled: number = yield context.df.callActivity('rtEngDouble', n);
  return { doubled, parent: context.df.parentInstanceId };
});

df.app.orchestration('rtEngParent', function* (context: OrchestrationContext) {
  const first: unknown = yield context.df.callSubOrchestrator('rtEngChild', 21, `${context.df.instanceId}-child`);
  let failure = '';
  try {
    yield context.df.callSubOrchestrator('rtEngChild', -1);
  } catch (err) {
    failure = (err as Error).message;
  }
  return { first, failure };
});

df.app.orchestration('rtEngCounter', function* (context: OrchestrationContext) {
  const count = context.df.getInput<number>();
  yield context.df.callActivity('rtEngDouble', count);
  if (count < 3) {
    context.df.continueAsNew(count + 1);
    return undefined;
  }
  return `counted to ${count}`;
});

df.app.orchestration('rtEngStatus', function* (context: OrchestrationContext) {
  context.df.setCustomStatus({ stage: 'waiting', progress: 1 });
  const go: unknown = yield context.df.waitForExternalEvent('Go');
  context.df.setCustomStatus({ stage: 'done', progress: 2 });
  return go;
});

df.app.orchestration('rtEngShortTimer', function* (context: OrchestrationContext) {
  yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + 20));
  return 'woke';
});

df.app.orchestration('rtEngForever', function* (context: OrchestrationContext) {
  yield context.df.waitForExternalEvent('Never');
});

let nonDeterministicFlip = false;
df.app.orchestration('rtEngNonDeterministic', function* (context: OrchestrationContext) {
  // Reads process state instead of history: replays stop repeating the first run's decisions.
  yield context.df.callActivity('rtEngGreet', nonDeterministicFlip ? 'b' : 'a');
  yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + 1000));
  return 'done';
});

df.app.orchestration('rtEngCollect', function* (context: OrchestrationContext) {
  const items: unknown[] = [];
  for (let i = 0; i < 3; i++) items.push(yield context.df.waitForExternalEvent('Item'));
  return items;
});

df.app.orchestration('rtEngReplayFlags', function* (context: OrchestrationContext) {
  const seen: boolean[] = [context.df.isReplaying];
  yield context.df.callActivity('rtEngGreet', 'one');
  seen.push(context.df.isReplaying);
  yield context.df.callActivity('rtEngGreet', 'two');
  seen.push(context.df.isReplaying);
  return seen;
});

const childAttempts = new Map<string, number>();
df.app.orchestration('rtEngFlakyChild', function* (context: OrchestrationContext) {
  const key = context.df.getInput<string>();
  const doubled: number = yield context.df.callActivity('rtEngDouble', 5);
  if (!context.df.isReplaying) childAttempts.set(key, (childAttempts.get(key) ?? 0) + 1);
  if ((childAttempts.get(key) ?? 0) < 2) throw new Error('child not ready yet');
  return doubled;
});

df.app.orchestration('rtEngRetryChild', function* (context: OrchestrationContext) {
  const result: number = yield context.df.callSubOrchestratorWithRetry(
    'rtEngFlakyChild',
    new df.RetryOptions(500, 3),
    context.df.instanceId,
  );
  return result;
});

df.app.orchestration('rtEngRetryFanOut', function* (context: OrchestrationContext) {
  const retry = new df.RetryOptions(1000, 3);
  const results: unknown[] = yield context.df.Task.all([
    context.df.callActivityWithRetry('rtEngFlaky', retry, { key: 'fan-a', failFirst: 1 }),
    context.df.callActivityWithRetry('rtEngFlaky', retry, { key: 'fan-b', failFirst: 2 }),
    context.df.callActivity('rtEngGreet', 'plain'),
    context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + 1500)),
  ]);
  const last: string = yield context.df.callActivity('rtEngGreet', 'last');
  return { results: results.slice(0, 3), last };
});

df.app.orchestration('rtEngSharedDeadline', function* (context: OrchestrationContext) {
  // One deadline for two steps: the same timer task takes part in two races.
  const deadline = context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + 10 * 60 * 1000));
  const got: unknown[] = [];
  for (const name of ['Picked', 'Dropped']) {
    const step = context.df.waitForExternalEvent(name);
    const winner: unknown = yield context.df.Task.any([step, deadline]);
    if (winner === deadline) return { got, timedOutAt: name };
    got.push(step.result);
    const note: string = yield context.df.callActivity('rtEngGreet', name);
    got.push(note);
  }
  deadline.cancel();
  return { got };
});

// ---------------------------------------------------------------- helpers

function types(history: HistoryEvent[]): number[] {
  return history.map((e) => e.EventType);
}

let clock: VirtualClock;
let engine: DurableEngine;

beforeEach(async () => {
  clock = new VirtualClock(T0);
  engine = await DurableEngine.create({ clock, maxConcurrentActivities: 3 });
});

afterEach(async () => {
  await engine.close();
});

async function run(name: string, input?: unknown, instanceId?: string): Promise<string> {
  const id = await engine.startNew(name, { input, ...(instanceId ? { instanceId } : {}) });
  await engine.idle();
  return id;
}

// ---------------------------------------------------------------- specifications

describe('the orchestration engine over the real durable-functions replay', () => {
  it('runs a sequence of activities and completes with their results', async () => {
    const id = await run('rtEngSequence', ['Tokyo', 'Seattle', 'London']);
    const status = await engine.getStatus(id, { showHistory: true });
    expect(status?.runtimeStatus).toBe('Completed');
    expect(status?.output).toEqual(['Hello Tokyo', 'Hello Seattle', 'Hello London']);
    expect(status?.input).toEqual(['Tokyo', 'Seattle', 'London']);
    const history = engine.getHistory(id) ?? [];
    // Every episode opens with OrchestratorStarted and closes with OrchestratorCompleted.
    expect(history[0]?.EventType).toBe(12);
    expect(history[1]?.EventType).toBe(0);
    expect(history.filter((e) => e.EventType === 4).map((e) => e.EventId)).toEqual([0, 1, 2]);
    expect(history.filter((e) => e.EventType === 5).map((e) => (e.EventType === 5 ? e.TaskScheduledId : -1))).toEqual([
      0, 1, 2,
    ]);
    expect(history.at(-1)?.EventType).toBe(1);
    expect(status?.history?.map((e) => e.EventType)).toContain('TaskCompleted');
  });

  it('surfaces an activity failure as an exception the orchestrator catches', async () => {
    const id = await run('rtEngCatch');
    const status = await engine.getStatus(id);
    expect(status?.runtimeStatus).toBe('Completed');
    const output = status?.output as { caught: string; compensated: string };
    expect(output.caught).toContain('boom: first');
    expect(output.compensated).toBe('Hello compensation');
  });

  it('fails the instance when the orchestrator does not catch', async () => {
    const id = await run('rtEngUncaught');
    const status = await engine.getStatus(id);
    expect(status?.runtimeStatus).toBe('Failed');
    expect(String(status?.output)).toMatch(/Orchestrator function 'rtEngUncaught' failed: .*boom: unhandled/s);
  });

  it('retries an activity after transient failures with exponential backoff', async () => {
    const id = await engine.startNew('rtEngRetry', { input: { key: 'ok', failFirst: 2, attempts: 4 } });
    const elapsed = await engine.runTimers();
    const status = await engine.getStatus(id);
    expect(status?.runtimeStatus).toBe('Completed');
    expect(status?.output).toEqual({ result: { key: 'ok', attempt: 3 }, after: 'Hello after' });
    // Waits of 1 s then 2 s (coefficient 2) before the third attempt.
    expect(elapsed).toBe(3000);
    const history = engine.getHistory(id) ?? [];
    const shape = types(history).filter((t) => [4, 5, 6, 10, 11].includes(t));
    // attempt 1 fails, timer, attempt 2 fails, timer, attempt 3 succeeds, then the next activity.
    expect(shape).toEqual([4, 6, 10, 11, 4, 6, 10, 11, 4, 5, 4, 5]);
    const ids = history.filter((e) => [4, 10].includes(e.EventType)).map((e) => e.EventId);
    expect(ids).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('gives up after the last attempt, still through a timer, and lets the orchestrator compensate', async () => {
    const id = await engine.startNew('rtEngRetry', { input: { key: 'never', failFirst: 99, attempts: 3 } });
    const elapsed = await engine.runTimers();
    const status = await engine.getStatus(id);
    expect(status?.runtimeStatus).toBe('Completed');
    const output = status?.output as { gaveUp: string; compensated: string };
    expect(output.gaveUp).toContain('transient failure 3');
    expect(output.compensated).toBe('Hello compensate');
    expect(flakyAttempts.get('never')).toBe(3);
    // 1 s + 2 s between attempts; the timer after the last attempt fires at once.
    expect(elapsed).toBe(3000);
    const shape = types(engine.getHistory(id) ?? []).filter((t) => [4, 5, 6, 10, 11].includes(t));
    expect(shape).toEqual([4, 6, 10, 11, 4, 6, 10, 11, 4, 6, 10, 11, 4, 5]);
  });

  it('keeps task ids in step with the SDK when retried calls fail concurrently inside Task.all', async () => {
    const id = await engine.startNew('rtEngRetryFanOut');
    await engine.runTimers();
    const status = await engine.getStatus(id);
    expect(status?.runtimeStatus).toBe('Completed');
    expect(status?.output).toEqual({
      results: [{ key: 'fan-a', attempt: 2 }, { key: 'fan-b', attempt: 3 }, 'Hello plain'],
      last: 'Hello last',
    });
    expect((await engine.verifyDeterminism(id)).deterministic).toBe(true);
  });

  it('fires a durable timer at its time on the virtual clock, not before', async () => {
    const id = await run('rtEngTimer');
    expect((await engine.getStatus(id))?.runtimeStatus).toBe('Running');
    await engine.advance(59 * 60 * 1000);
    expect((await engine.getStatus(id))?.runtimeStatus).toBe('Running');
    await engine.advance(60 * 1000);
    const status = await engine.getStatus(id);
    expect(status?.runtimeStatus).toBe('Completed');
    expect(status?.output).toEqual({ greeting: 'Hello after the hour', at: new Date(T0 + 3600_000).toISOString() });
  });

  it('lets an external event win a race against a timer, and the timer win when no event comes', async () => {
    const approved = await run('rtEngApproval', undefined, 'approval-yes');
    await engine.advance(10 * 60 * 1000);
    await engine.raiseEvent(approved, 'Approval', { by: 'ops' });
    await engine.idle();
    expect((await engine.getStatus(approved))?.output).toEqual({ approved: { by: 'ops' } });
    // The canceled timer is disarmed, nothing stays waiting on the clock.
    expect(clock.pendingTimers).toBe(0);

    const timedOut = await run('rtEngApproval', undefined, 'approval-late');
    await engine.advance(30 * 60 * 1000);
    const status = await engine.getStatus(timedOut);
    expect(status?.runtimeStatus).toBe('Completed');
    expect(status?.output).toEqual({ approved: false, reason: 'timed out' });
    await expect(engine.raiseEvent(timedOut, 'Approval', true)).rejects.toMatchObject({ code: 'InstanceGone' });
  });

  it('refuses a timer raced again in a second Task.any, which the extension would schedule twice (azure-functions-durable-js #574)', async () => {
    const id = await run('rtEngSharedDeadline', undefined, 'deadline-reraced');
    await engine.raiseEvent(id, 'Picked', 1);
    await engine.idle();
    const status = await engine.getStatus(id);
    expect(status?.runtimeStatus).toBe('Failed');
    expect(String(status?.output)).toMatch(/already scheduled \(a timer\) was raced again.*#574/);
  });

  it('fans out with Task.all within the activity concurrency bound', async () => {
    peakConcurrent = 0;
    const id = await run('rtEngFanOut', 8);
    const status = await engine.getStatus(id);
    expect(status?.runtimeStatus).toBe('Completed');
    expect(status?.output).toBe(204);
    expect(peakConcurrent).toBeGreaterThan(1);
    expect(peakConcurrent).toBeLessThanOrEqual(3);
    expect(engine.peakActivityConcurrency).toBeLessThanOrEqual(3);
  });

  it('runs sub-orchestrations and reports their results and failures to the parent', async () => {
    const id = await run('rtEngParent', undefined, 'parent-1');
    const status = await engine.getStatus(id);
    expect(status?.runtimeStatus).toBe('Completed');
    const output = status?.output as { first: unknown; failure: string };
    expect(output.first).toEqual({ doubled: 42, parent: 'parent-1' });
    expect(output.failure).toContain('negative input');
    const child = await engine.getStatus('parent-1-child');
    expect(child?.runtimeStatus).toBe('Completed');
    const failedChildren = await engine.listInstances({ runtimeStatus: ['Failed'], instanceIdPrefix: 'parent-1:' });
    expect(failedChildren).toHaveLength(1);
  });

  it('continues as new with fresh history until the orchestrator completes', async () => {
    const id = await run('rtEngCounter', 0);
    const status = await engine.getStatus(id);
    expect(status?.runtimeStatus).toBe('Completed');
    expect(status?.output).toBe('counted to 3');
    expect(status?.input).toBe(3);
    // Only the last execution's history remains.
    const scheduled = (engine.getHistory(id) ?? []).filter((e) => e.EventType === 4);
    expect(scheduled).toHaveLength(1);
  });

  it('publishes custom status as the orchestrator sets it', async () => {
    const id = await run('rtEngStatus');
    expect((await engine.getStatus(id))?.customStatus).toEqual({ stage: 'waiting', progress: 1 });
    await engine.raiseEvent(id, 'Go', 'now');
    await engine.idle();
    const status = await engine.getStatus(id);
    expect(status?.customStatus).toEqual({ stage: 'done', progress: 2 });
    expect(status?.output).toBe('now');
  });

  it('buffers an event raised before the orchestrator waits for it', async () => {
    const id = await engine.startNew('rtEngStatus');
    await engine.raiseEvent(id, 'Go', 42);
    await engine.idle();
    expect((await engine.getStatus(id))?.output).toBe(42);
  });

  it('terminates a running instance with its reason and ignores it afterwards', async () => {
    const id = await run('rtEngForever');
    await engine.terminate(id, 'operator said so');
    const status = await engine.getStatus(id);
    expect(status?.runtimeStatus).toBe('Terminated');
    expect(status?.output).toBe('operator said so');
    await expect(engine.terminate(id, 'again')).rejects.toMatchObject({ code: 'InstanceGone' });
  });

  it('rejects starting an instance id that exists and has not finished, and allows it once finished', async () => {
    await run('rtEngForever', undefined, 'only-once');
    const duplicate = engine.startNew('rtEngForever', { instanceId: 'only-once' });
    await expect(duplicate).rejects.toBeInstanceOf(DurableEngineError);
    await expect(engine.startNew('rtEngForever', { instanceId: 'only-once' })).rejects.toMatchObject({
      code: 'InstanceExists',
    });
    await engine.terminate('only-once', 'done');
    await engine.startNew('rtEngSequence', { instanceId: 'only-once', input: ['again'] });
    await engine.idle();
    expect((await engine.getStatus('only-once'))?.output).toEqual(['Hello again']);
  });

  it('refuses unknown orchestrators and reports unknown instances', async () => {
    await expect(engine.startNew('rtEngNoSuchThing')).rejects.toMatchObject({ code: 'OrchestratorNotFound' });
    expect(await engine.getStatus('nobody')).toBeUndefined();
    await expect(engine.raiseEvent('nobody', 'x')).rejects.toMatchObject({ code: 'InstanceNotFound' });
  });

  it('lists and purges instances by status and creation time', async () => {
    await run('rtEngSequence', ['a'], 'q-done');
    await engine.advance(60_000);
    await run('rtEngForever', undefined, 'q-running');
    const running = await engine.listInstances({ runtimeStatus: ['Running'] });
    expect(running.map((s) => s.instanceId)).toEqual(['q-running']);
    const recent = await engine.listInstances({ createdTimeFrom: new Date(T0 + 30_000) });
    expect(recent.map((s) => s.instanceId)).toEqual(['q-running']);
    const stale = await engine.listInstances({
      runtimeStatus: ['Running', 'Pending'],
      lastUpdatedTimeTo: new Date(T0 + 120_000),
    });
    expect(stale.map((s) => s.instanceId)).toEqual(['q-running']);
    await expect(engine.purge('q-running')).rejects.toMatchObject({ code: 'NotTerminal' });
    expect(await engine.purge('q-done')).toBe(true);
    expect(await engine.getStatus('q-done')).toBeUndefined();
    expect(await engine.purge('q-done')).toBe(false);
  });

  it('lists by creation time, ids breaking ties, with bounds inclusive and beyond the ISO years still ordered', async () => {
    await run('rtEngForever', undefined, 'b-2');
    await run('rtEngForever', undefined, 'b-1');
    await engine.advance(1_000);
    await run('rtEngForever', undefined, 'a-late');
    const ids = async (q: Parameters<typeof engine.listInstances>[0]) =>
      (await engine.listInstances(q)).map((s) => s.instanceId);
    expect(await ids({})).toEqual(['b-1', 'b-2', 'a-late']);
    const lateAt = new Date(T0 + 1_000);
    expect(await ids({ createdTimeFrom: lateAt })).toEqual(['a-late']);
    expect(await ids({ createdTimeTo: new Date(T0) })).toEqual(['b-1', 'b-2']);
    // Bounds whose ISO text is not YYYY-MM-DD… (before year 0, after 9999) still mean the instants.
    expect(await ids({ createdTimeFrom: new Date(-8.64e15), createdTimeTo: new Date(8.64e15) })).toEqual([
      'b-1',
      'b-2',
      'a-late',
    ]);
    expect(await ids({ createdTimeFrom: new Date(8.64e15) })).toEqual([]);
    expect(await ids({ createdTimeTo: new Date(-8.64e15) })).toEqual([]);
    await expect(engine.listInstances({ createdTimeFrom: new Date(Number.NaN) })).rejects.toThrow(/not a valid date/);
  });

  it('replays a finished instance to the same actions and output', async () => {
    const ids = [
      await run('rtEngSequence', ['x', 'y']),
      await run('rtEngCatch'),
      await run('rtEngParent', undefined, 'det-parent'),
      await run('rtEngFanOut', 4),
    ];
    const retried = await engine.startNew('rtEngRetry', { input: { key: 'det', failFirst: 1, attempts: 3 } });
    await engine.runTimers();
    ids.push(retried);
    for (const id of ids) {
      const report = await engine.verifyDeterminism(id);
      expect(report.deterministic, `${id}: ${JSON.stringify(report)}`).toBe(true);
      expect(report.replayedActions.length).toBeGreaterThan(0);
    }
  });

  it('queues events that arrive while an instance is replaying and plays them in arrival order', async () => {
    const id = await run('rtEngCollect');
    await Promise.all([
      engine.raiseEvent(id, 'Item', 1),
      engine.raiseEvent(id, 'Item', 2),
      engine.raiseEvent(id, 'Item', 3),
    ]);
    await engine.idle();
    expect((await engine.getStatus(id))?.output).toEqual([1, 2, 3]);
  });

  it('marks earlier episodes as played, so isReplaying is false only for the new step', async () => {
    const id = await run('rtEngReplayFlags');
    expect((await engine.getStatus(id))?.output).toEqual([true, true, false]);
  });

  it('retries a failing sub-orchestration with a fresh child instance per attempt', async () => {
    const id = await run('rtEngRetryChild', undefined, 'retry-child');
    expect((await engine.getStatus(id))?.runtimeStatus).toBe('Running');
    await engine.runTimers();
    const status = await engine.getStatus(id);
    expect(status?.runtimeStatus).toBe('Completed');
    expect(status?.output).toBe(10);
    const children = await engine.listInstances({ instanceIdPrefix: 'retry-child:' });
    expect(children.map((c) => c.runtimeStatus)).toEqual(['Failed', 'Completed']);
    expect((await engine.verifyDeterminism(id)).deterministic).toBe(true);
  });

  it('holds events while suspended and plays them on resume', async () => {
    const id = await run('rtEngStatus');
    await engine.suspend(id, 'maintenance');
    await engine.raiseEvent(id, 'Go', 'later');
    await engine.idle();
    expect((await engine.getStatus(id))?.runtimeStatus).toBe('Suspended');
    await engine.resume(id, 'back');
    await engine.idle();
    const status = await engine.getStatus(id);
    expect(status?.runtimeStatus).toBe('Completed');
    expect(status?.output).toBe('later');
  });

  it('detects an orchestrator that decides differently on replay', async () => {
    nonDeterministicFlip = false;
    const id = await run('rtEngNonDeterministic');
    nonDeterministicFlip = true;
    const report = await engine.verifyDeterminism(id);
    expect(report.deterministic).toBe(false);
    expect(report.mismatchAt).toBe(0);
    // The engine itself fails the instance at its next replay.
    await engine.runTimers();
    const status = await engine.getStatus(id);
    expect(status?.runtimeStatus).toBe('Failed');
    expect(String(status?.output)).toContain('Non-deterministic');
  });
});

describe('the orchestration engine on the real clock', () => {
  it('fires a short durable timer in wall-clock time', async () => {
    const real = await DurableEngine.create({ clock: realClock });
    try {
      const id = await real.startNew('rtEngShortTimer');
      const status = await real.whenTerminal(id);
      expect(status.runtimeStatus).toBe('Completed');
      expect(status.output).toBe('woke');
    } finally {
      await real.close();
    }
  });
});
