/**
 * The file-backed instance store survives a process kill: a new engine over the same directory
 * resumes in-flight instances, re-running activities that were under way (at-least-once),
 * re-arming timers, playing events raised before the crash, and reconnecting sub-orchestrations
 * to their parents.
 */
import '../../support/install-core';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as df from 'durable-functions';
import type { OrchestrationContext } from 'durable-functions';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DurableEngine,
  FileInstanceStore,
  MemoryInstanceStore,
  VirtualClock,
} from '../../../packages/functions-local/src/durable';
import type { ActivityInvoker, InstanceRecord } from '../../../packages/functions-local/src/durable';

const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);
const HOUR = 3600_000;

const invocations = new Map<string, number>();
df.app.activity('rtDurStep', {
  handler: (label: unknown) => {
    const key = String(label);
    invocations.set(key, (invocations.get(key) ?? 0) + 1);
    return `did ${key}`;
  },
});

df.app.orchestration('rtDurResume', function* (context: OrchestrationContext) {
  const tag = context.df.getInput<string>();
  const first: string = yield context.df.callActivity('rtDurStep', `${tag}-first`);
  yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + HOUR));
  const second: string = yield context.df.callActivity('rtDurStep', `${tag}-second`);
  return { first, second, finishedAt: context.df.currentUtcDateTime.toISOString() };
});

df.app.orchestration('rtDurChild', function* (context: OrchestrationContext) {
  const go: string = yield context.df.waitForExternalEvent('Go');
  return `child got ${go}`;
});

df.app.orchestration('rtDurParent', function* (context: OrchestrationContext) {
  const child: string = yield context.df.callSubOrchestrator('rtDurChild', undefined, `${context.df.instanceId}-child`);
  const after: string = yield context.df.callActivity('rtDurStep', `${context.df.instanceId}-after-child`);
  return { child, after };
});

let dir: string;
const engines: DurableEngine[] = [];

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'durable-engine-'));
});

afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
  await fs.rm(dir, { recursive: true, force: true });
});

async function engineAt(now: number, invokeActivity?: ActivityInvoker): Promise<DurableEngine> {
  const engine = await DurableEngine.create({
    store: new FileInstanceStore(dir),
    clock: new VirtualClock(now),
    ...(invokeActivity ? { invokeActivity } : {}),
  });
  engines.push(engine);
  return engine;
}

async function stored(instanceId: string): Promise<InstanceRecord> {
  const record = await new FileInstanceStore(dir).load(instanceId);
  if (!record) throw new Error(`nothing stored for ${instanceId}`);
  return record;
}

describe('resuming instances after a crash with the file-backed store', () => {
  it('re-runs an activity that was in flight when the process died', async () => {
    let signalStarted: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (signalStarted = resolve));
    // The first process gets as far as starting the activity, then dies with it unfinished.
    const hanging: ActivityInvoker = () => {
      signalStarted();
      return new Promise<never>(() => undefined);
    };
    const first = await engineAt(T0, hanging);
    await first.startNew('rtDurResume', { instanceId: 'crash-activity', input: 'a' });
    await started;
    await first.close();

    const onDisk = await stored('crash-activity');
    expect(onDisk.status).toBe('Running');
    expect(onDisk.pending).toEqual([expect.objectContaining({ kind: 'activity', name: 'rtDurStep' })]);

    const second = await engineAt(T0 + 5 * 60_000);
    await second.idle();
    expect(invocations.get('a-first')).toBe(1);
    expect((await second.getStatus('crash-activity'))?.runtimeStatus).toBe('Running');
    await second.advance(HOUR);
    const status = await second.getStatus('crash-activity');
    expect(status?.runtimeStatus).toBe('Completed');
    expect(status?.output).toEqual({
      first: 'did a-first',
      second: 'did a-second',
      finishedAt: new Date(T0 + 5 * 60_000 + HOUR).toISOString(),
    });
    expect((await second.verifyDeterminism('crash-activity')).deterministic).toBe(true);
  });

  it('re-arms a durable timer, firing it at once when it came due while the process was down', async () => {
    const first = await engineAt(T0);
    await first.startNew('rtDurResume', { instanceId: 'crash-timer', input: 'b' });
    await first.idle();
    expect((await first.getStatus('crash-timer'))?.runtimeStatus).toBe('Running');
    await first.close();
    const onDisk = await stored('crash-timer');
    expect(onDisk.pending).toEqual([{ kind: 'timer', taskId: 1, fireAt: new Date(T0 + HOUR).toISOString() }]);

    const second = await engineAt(T0 + 2 * HOUR);
    await second.idle();
    const status = await second.getStatus('crash-timer');
    expect(status?.runtimeStatus).toBe('Completed');
    expect(invocations.get('b-first')).toBe(1);
    expect(invocations.get('b-second')).toBe(1);
  });

  it('keeps a timer that is not yet due waiting on the new clock', async () => {
    const first = await engineAt(T0);
    await first.startNew('rtDurResume', { instanceId: 'crash-timer-later', input: 'c' });
    await first.idle();
    await first.close();

    const second = await engineAt(T0 + 30 * 60_000);
    await second.advance(29 * 60_000);
    expect((await second.getStatus('crash-timer-later'))?.runtimeStatus).toBe('Running');
    await second.advance(60_000);
    expect((await second.getStatus('crash-timer-later'))?.runtimeStatus).toBe('Completed');
  });

  it('reconnects a sub-orchestration to its parent and plays an event raised before the crash', async () => {
    const first = await engineAt(T0);
    await first.startNew('rtDurParent', { instanceId: 'crash-parent' });
    await first.idle();
    expect((await first.getStatus('crash-parent-child'))?.runtimeStatus).toBe('Running');
    await first.raiseEvent('crash-parent-child', 'Go', 'green light');
    // Killed right after the event was accepted (written), before anything played it.
    await first.close();

    const second = await engineAt(T0 + 60_000);
    await second.idle();
    expect((await second.getStatus('crash-parent-child'))?.output).toBe('child got green light');
    const parent = await second.getStatus('crash-parent');
    expect(parent?.runtimeStatus).toBe('Completed');
    expect(parent?.output).toEqual({ child: 'child got green light', after: 'did crash-parent-after-child' });
  });

  it('writes one JSON file per instance and leaves no temporary files behind', async () => {
    const engine = await engineAt(T0);
    await engine.startNew('rtDurResume', { instanceId: 'files/with:odd chars', input: 'd' });
    await engine.idle();
    const names = await fs.readdir(dir);
    expect(names).toEqual([`${encodeURIComponent('files/with:odd chars')}.instance.json`]);
    const record = JSON.parse(await fs.readFile(path.join(dir, names[0] ?? ''), 'utf8')) as InstanceRecord;
    expect(record.instanceId).toBe('files/with:odd chars');
    expect((await new FileInstanceStore(dir).loadAll()).map((r) => r.instanceId)).toEqual(['files/with:odd chars']);
  });

  it('keeps copies in the memory store, never the live record', async () => {
    const store = new MemoryInstanceStore();
    const engine = await DurableEngine.create({ store, clock: new VirtualClock(T0) });
    engines.push(engine);
    await engine.startNew('rtDurResume', { instanceId: 'memory-copy', input: 'e' });
    await engine.idle();
    const copy = await store.load('memory-copy');
    if (!copy) throw new Error('not stored');
    copy.status = 'Failed';
    expect((await store.load('memory-copy'))?.status).toBe('Running');
  });
});
