/**
 * Behaviours of durable-functions 3.5 that the saga's interpreter is built around, verified on
 * the real SDK replay, with the engine in the extension's delivery mode and an activity result
 * held while an event is raised. Named after the upstream issues that report them.
 */
import '../../support/install-core';
import * as df from 'durable-functions';
import type { OrchestrationContext } from 'durable-functions';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DurableEngine, VirtualClock } from '../../../packages/functions-local/src/durable';

df.app.activity('sdkBehEcho', { handler: (x: unknown) => x });

/** Wait A and B; race them; A wins; call an activity; race B again. */
function* raceAgain(context: OrchestrationContext, checkFirst: boolean): Generator<df.Task, unknown, unknown> {
  const a = context.df.waitForExternalEvent('A');
  const b = context.df.waitForExternalEvent('B');
  yield context.df.Task.any([a, b]);
  yield context.df.callActivity('sdkBehEcho', 'busy');
  if (checkFirst && b.isCompleted) return { b: b.result as unknown };
  const winner = (yield context.df.Task.any([b])) as df.Task;
  return { b: winner.result as unknown };
}
df.app.orchestration('sdkBehRaceAgain', (context: OrchestrationContext) => raceAgain(context, false));
df.app.orchestration('sdkBehCheckFirst', (context: OrchestrationContext) => raceAgain(context, true));

df.app.orchestration('sdkBehWaitAlone', function* (context: OrchestrationContext) {
  const first = context.df.waitForExternalEvent('A');
  yield context.df.Task.any([first, context.df.waitForExternalEvent('Z')]);
  // A task raced before is yielded alone: safe, nothing is sent twice.
  const call = context.df.callActivity('sdkBehEcho', 'alone');
  const timer = context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + 60_000));
  yield context.df.Task.any([call, timer]);
  timer.cancel();
  return 'done';
});

let engine: DurableEngine;
beforeEach(async () => {
  engine = await DurableEngine.create({ clock: new VirtualClock(Date.UTC(2026, 0, 1)), eventDelivery: 'batch' });
});
afterEach(async () => engine.close());

async function raceWithBRaisedDuringTheActivity(name: string): Promise<string> {
  const hold = engine.holdResults((run) => run.name === 'sdkBehEcho');
  const id = await engine.startNew(name);
  await engine.idle();
  await engine.raiseEvent(id, 'A', 1);
  await engine.idle();
  expect(hold.held).toBe(1);
  await engine.raiseEvent(id, 'B', 2);
  await engine.idle();
  await hold.release();
  return id;
}

describe('durable-functions 3.5 as the saga relies on it', () => {
  it('azure-functions-durable-js #558 / #577: an event task that completed during an activity never resolves a later Task.any', async () => {
    const id = await raceWithBRaisedDuringTheActivity('sdkBehRaceAgain');
    const status = await engine.getStatus(id);
    expect(status?.runtimeStatus).toBe('Running');
    // B is in the history: it arrived, and the orchestrator simply cannot see it through Task.any.
    expect(
      engine
        .getHistory(id)
        ?.filter((e) => e.EventType === 15)
        .map((e) => e.Name),
    ).toEqual(['A', 'B']);
  });

  it('the remedy the interpreter uses: look at isCompleted before racing, and the event is there', async () => {
    const id = await raceWithBRaisedDuringTheActivity('sdkBehCheckFirst');
    const status = await engine.getStatus(id);
    expect(status?.runtimeStatus).toBe('Completed');
    expect(status?.output).toEqual({ b: 2 });
  });

  it('azure-functions-durable-js #574: an already scheduled task in a new Task.any is refused (the extension would schedule it again); a fresh race is fine', async () => {
    const id = await engine.startNew('sdkBehWaitAlone');
    await engine.idle();
    await engine.raiseEvent(id, 'A', 1);
    await engine.idle();
    expect((await engine.getStatus(id))?.runtimeStatus).toBe('Completed');
  });
});
