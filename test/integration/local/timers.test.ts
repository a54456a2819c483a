import '../../support/install-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { app } from '@azure/functions';
import type { Timer } from '@azure/functions';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../packages/functions-local/src/clock';
import { silentLogger } from '../../../packages/functions-local/src/host/invocation';
import {
  CronExpressionError,
  TimerScheduler,
  nextOccurrence,
  nextOccurrences,
  parseNcrontab,
} from '../../../packages/functions-local/src/timers/scheduler';
import type { TimerSchedulerOptions } from '../../../packages/functions-local/src/timers/scheduler';
import { currentRegistry } from '../../../packages/functions-local/src/core/functions-core';

const iso = (t: number | undefined): string | undefined => (t === undefined ? undefined : new Date(t).toISOString());
const at = (s: string): number => Date.parse(s);

describe('NCRONTAB expressions', () => {
  it('expands values, lists, ranges, steps and names', () => {
    const s = parseNcrontab('*/15 5,10 9-17/4 1-3 JAN-mar,DEC MON-FRI');
    expect([...s.seconds]).toEqual([0, 15, 30, 45]);
    expect([...s.minutes]).toEqual([5, 10]);
    expect([...s.hours]).toEqual([9, 13, 17]);
    expect([...s.days]).toEqual([1, 2, 3]);
    expect([...s.months]).toEqual([1, 2, 3, 12]);
    expect([...s.daysOfWeek]).toEqual([1, 2, 3, 4, 5]);
    expect([...parseNcrontab('10/20 * * * * *').seconds]).toEqual([10, 30, 50]);
  });

  it('computes next occurrences in UTC', () => {
    const after = at('2026-01-01T00:00:00Z'); // a Thursday
    expect(nextOccurrences(parseNcrontab('0 */5 * * * *'), after, 3).map(iso)).toEqual([
      '2026-01-01T00:05:00.000Z',
      '2026-01-01T00:10:00.000Z',
      '2026-01-01T00:15:00.000Z',
    ]);
    expect(nextOccurrences(parseNcrontab('0 30 9 * * MON-FRI'), after, 3).map(iso)).toEqual([
      '2026-01-01T09:30:00.000Z',
      '2026-01-02T09:30:00.000Z',
      '2026-01-05T09:30:00.000Z',
    ]);
    expect(iso(nextOccurrence(parseNcrontab('0 0 0 29 2 *'), after))).toBe('2028-02-29T00:00:00.000Z');
    expect(iso(nextOccurrence(parseNcrontab('0 0 12 1 JAN,JUL *'), at('2026-01-01T12:00:00Z')))).toBe(
      '2026-07-01T12:00:00.000Z',
    );
    // Strictly after: an exact match is not its own next occurrence.
    expect(iso(nextOccurrence(parseNcrontab('*/10 * * * * *'), at('2026-01-01T00:00:10Z')))).toBe(
      '2026-01-01T00:00:20.000Z',
    );
  });

  it('requires both the day and the day of week when both are restricted (NCrontab semantics)', () => {
    // Friday the 13th.
    expect(nextOccurrences(parseNcrontab('0 0 0 13 * FRI'), at('2026-01-01T00:00:00Z'), 2).map(iso)).toEqual([
      '2026-02-13T00:00:00.000Z',
      '2026-03-13T00:00:00.000Z',
    ]);
  });

  it.each([
    ['0 */5 * * *', /expected 6 fields/],
    ['00:05:00', /TimeSpan schedules are not supported/],
    ['60 * * * * *', /second field "60": 60 is outside 0-59/],
    ['* * 24 * * *', /hour field/],
    ['* * * 0 * *', /day field/],
    ['* * * * 13 *', /month field/],
    ['* * * * * 7', /day-of-week field/],
    ['*/0 * * * * *', /step .* must be at least 1/],
    ['5-1 * * * * *', /runs backwards/],
    ['x * * * * *', /"x" is not a number/],
    ['* * * * * FUNDAY', /not a number or a name/],
    ['0 0 0 31 2 *', /never fires/],
  ])('rejects %s with a clear error', (expression, message) => {
    expect(() => parseNcrontab(expression)).toThrow(CronExpressionError);
    expect(() => parseNcrontab(expression)).toThrow(message);
    expect(() => parseNcrontab(expression)).toThrow(`Invalid NCRONTAB expression "${expression}"`);
  });
});

const calls = new Map<string, { timer: Timer; at: number }[]>();
let clock = new ManualClock();
function record(name: string) {
  return (timer: Timer): void => {
    const list = calls.get(name) ?? [];
    list.push({ timer, at: clock.now() });
    calls.set(name, list);
  };
}
const F = {
  every5: 'localTimerEvery5',
  startup: 'localTimerStartup',
  setting: 'localTimerSetting',
  flaky: 'localTimerFlaky',
} as const;
app.timer(F.every5, { schedule: '0 */5 * * * *', handler: record(F.every5) });
app.timer(F.startup, { schedule: '0 0 3 * * *', runOnStartup: true, handler: record(F.startup) });
app.timer(F.setting, { schedule: '%CleanupSchedule%', handler: record(F.setting) });
let flakyFailures = 0;
app.timer(F.flaky, {
  schedule: '0 0 * * * *',
  retry: { strategy: 'fixedDelay', maxRetryCount: 1, delayInterval: { seconds: 10 } },
  handler: (timer, context) => {
    record(F.flaky)(timer);
    if (flakyFailures-- > 0) throw new Error(`attempt ${context.retryContext?.retryCount ?? -1} failed`);
  },
});
const registry = currentRegistry();

const schedulers: TimerScheduler[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of schedulers.splice(0)) await s.stop();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  calls.clear();
});

function scheduler(names: string[], options: Partial<TimerSchedulerOptions> = {}): TimerScheduler {
  const s = new TimerScheduler({
    functions: names.map((n) => registry.get(n)),
    clock,
    logger: silentLogger,
    ...options,
  });
  schedulers.push(s);
  return s;
}

describe('the timer scheduler', () => {
  it('invokes on schedule with the host timer object', async () => {
    clock = new ManualClock(at('2026-01-01T00:01:00Z'));
    scheduler([F.every5]).start();
    await clock.advance(3 * 60_000 + 59_000);
    expect(calls.get(F.every5)).toBeUndefined();
    await clock.advance(1000);
    await clock.advance(5 * 60_000);
    const got = calls.get(F.every5) ?? [];
    expect(got.map((c) => iso(c.at))).toEqual(['2026-01-01T00:05:00.000Z', '2026-01-01T00:10:00.000Z']);
    expect(got[0]?.timer).toEqual({
      schedule: { adjustForDST: false },
      scheduleStatus: {
        last: '2026-01-01T00:05:00.000Z',
        next: '2026-01-01T00:10:00.000Z',
        lastUpdated: '2026-01-01T00:05:00.000Z',
      },
      isPastDue: false,
    });
  });

  it('runs a runOnStartup function once at start, then on its schedule', async () => {
    clock = new ManualClock(at('2026-01-01T02:59:00Z'));
    scheduler([F.startup]).start();
    await clock.advance(0);
    expect(calls.get(F.startup)?.map((c) => [iso(c.at), c.timer.isPastDue])).toEqual([
      ['2026-01-01T02:59:00.000Z', false],
    ]);
    await clock.advance(60_000);
    expect(calls.get(F.startup)?.map((c) => iso(c.at))).toEqual([
      '2026-01-01T02:59:00.000Z',
      '2026-01-01T03:00:00.000Z',
    ]);
  });

  it('fires once with isPastDue after the process was down past a scheduled time', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'local-timers-'));
    dirs.push(dataDir);
    clock = new ManualClock(at('2026-01-01T00:01:00Z'));
    const first = scheduler([F.every5], { dataDir }).start();
    await clock.advance(4 * 60_000); // runs at 00:05
    await first.stop();
    expect(first.status(F.every5)?.next).toBe('2026-01-01T00:10:00.000Z');
    calls.clear();

    // Down from 00:05 until 00:27: 00:10, 00:15, 00:20 and 00:25 were missed.
    clock.set(at('2026-01-01T00:27:00Z'));
    scheduler([F.every5], { dataDir }).start();
    await clock.advance(0);
    const got = calls.get(F.every5) ?? [];
    expect(got).toHaveLength(1);
    expect(got[0]?.timer.isPastDue).toBe(true);
    expect(got[0]?.timer.scheduleStatus.next).toBe('2026-01-01T00:30:00.000Z');
    await clock.advance(3 * 60_000);
    expect((calls.get(F.every5) ?? []).map((c) => [iso(c.at), c.timer.isPastDue])).toEqual([
      ['2026-01-01T00:27:00.000Z', true],
      ['2026-01-01T00:30:00.000Z', false],
    ]);
  });

  it('does not call a first start past due', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'local-timers-'));
    dirs.push(dataDir);
    clock = new ManualClock(at('2026-01-01T00:01:00Z'));
    scheduler([F.every5], { dataDir }).start();
    await clock.advance(0);
    expect(calls.get(F.every5)).toBeUndefined();
    expect(JSON.parse(fs.readFileSync(path.join(dataDir, 'timers', `${F.every5}.json`), 'utf8'))).toMatchObject({
      next: '2026-01-01T00:05:00.000Z',
    });
  });

  it('resolves a %Setting% schedule and fails fast on a missing setting', async () => {
    clock = new ManualClock(at('2026-01-01T00:00:00Z'));
    scheduler([F.setting], { settings: { CleanupSchedule: '*/30 * * * * *' } }).start();
    await clock.advance(60_000);
    expect(calls.get(F.setting)).toHaveLength(2);
    expect(() => scheduler([F.setting], { settings: {} })).toThrow(/App setting "CleanupSchedule"/);
    expect(() => scheduler([F.setting], { settings: { CleanupSchedule: '* * *' } })).toThrow(
      /Function "localTimerSetting": Invalid NCRONTAB/,
    );
  });

  it("applies the function's retry policy to a failing run", async () => {
    clock = new ManualClock(at('2026-01-01T00:59:00Z'));
    flakyFailures = 1;
    scheduler([F.flaky]).start();
    await clock.advance(60_000);
    expect(calls.get(F.flaky)).toHaveLength(1);
    await clock.advance(10_000);
    expect(calls.get(F.flaky)?.map((c) => iso(c.at))).toEqual(['2026-01-01T01:00:00.000Z', '2026-01-01T01:00:10.000Z']);
  });
});
