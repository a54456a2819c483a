import '../../support/install-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { app, output } from '@azure/functions';
import type { InvocationContext } from '@azure/functions';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventHubDecl } from '../../../functions/resources';
import { ManualClock, settle } from '../../../packages/functions-local/src/clock';
import { EventHubNamespace } from '../../../packages/functions-local/src/eventhubs/hub';
import { eventHubOutputHook, publishEventHubOutputs } from '../../../packages/functions-local/src/eventhubs/outputs';
import { hashPartitionKey } from '../../../packages/functions-local/src/eventhubs/partition-key';
import { EventHubTriggerDispatcher } from '../../../packages/functions-local/src/eventhubs/trigger';
import type { EventHubTriggerOptions } from '../../../packages/functions-local/src/eventhubs/trigger';
import {
  DEFAULT_HOST_OPTIONS,
  hostOptionsFrom,
  parseTimeSpan,
  readHostOptions,
} from '../../../packages/functions-local/src/host/host-options';
import type { EventHubsHostOptions } from '../../../packages/functions-local/src/host/host-options';
import { createInvocationContext, silentLogger } from '../../../packages/functions-local/src/host/invocation';
import type { LocalLogger } from '../../../packages/functions-local/src/host/invocation';
import { currentRegistry } from '../../../packages/functions-local/src/core/functions-core';

const HUBS: EventHubDecl[] = [
  {
    name: 'orders',
    partitionKey: 'orderId',
    consumerGroups: [{ name: 'billing', setting: 'OrdersGroup' }],
    capture: false,
  },
  { name: 'audit', partitionKey: 'orderId', consumerGroups: [], capture: false },
];

interface Call {
  readonly input: unknown;
  readonly context: InvocationContext;
  readonly at: number;
}

/** Each test function records its calls here and behaves as the test sets it up. */
const calls = new Map<string, Call[]>();
const behaviour = new Map<string, (input: unknown, context: InvocationContext) => unknown>();
let clockForCalls: ManualClock | undefined;

function handlerFor(name: string) {
  return async (input: unknown, context: InvocationContext): Promise<unknown> => {
    const list = calls.get(name) ?? [];
    list.push({ input, context, at: clockForCalls?.now() ?? Date.now() });
    calls.set(name, list);
    return behaviour.get(name)?.(input, context);
  };
}

const auditOut = output.eventHub({ connection: 'EventHubConnection', eventHubName: 'audit' });
const F = {
  many: 'localEhMany',
  one: 'localEhOne',
  fixed: 'localEhFixedRetry',
  exponential: 'localEhExponentialRetry',
  forward: 'localEhForward',
  settingGroup: 'localEhSettingGroup',
  unknownGroup: 'localEhUnknownGroup',
} as const;
const base = { connection: 'EventHubConnection', eventHubName: 'orders' };
app.eventHub(F.many, { ...base, consumerGroup: 'billing', cardinality: 'many', handler: handlerFor(F.many) });
app.eventHub(F.one, { ...base, cardinality: 'one', handler: handlerFor(F.one) });
app.eventHub(F.fixed, {
  ...base,
  cardinality: 'many',
  retry: { strategy: 'fixedDelay', maxRetryCount: 2, delayInterval: { seconds: 2 } },
  handler: handlerFor(F.fixed),
});
app.eventHub(F.exponential, {
  ...base,
  cardinality: 'many',
  retry: {
    strategy: 'exponentialBackoff',
    maxRetryCount: 3,
    minimumInterval: { seconds: 1 },
    maximumInterval: { seconds: 3 },
  },
  handler: handlerFor(F.exponential),
});
app.eventHub(F.forward, {
  ...base,
  cardinality: 'many',
  extraOutputs: [auditOut],
  return: output.eventHub({ connection: 'EventHubConnection', eventHubName: '%AuditHub%' }),
  handler: handlerFor(F.forward),
});
app.eventHub(F.settingGroup, {
  ...base,
  consumerGroup: '%OrdersGroup%',
  cardinality: 'many',
  handler: handlerFor(F.settingGroup),
});
app.eventHub(F.unknownGroup, {
  ...base,
  consumerGroup: 'nobody',
  cardinality: 'many',
  handler: handlerFor(F.unknownGroup),
});

const registry = currentRegistry();
const batchOf = (o: Partial<EventHubsHostOptions>): EventHubsHostOptions => ({
  maxEventBatchSize: 100,
  minEventBatchSize: 1,
  maxWaitTimeMs: 1000,
  initialOffset: 'fromStart',
  ...o,
});

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  calls.clear();
  behaviour.clear();
  clockForCalls = undefined;
});

function setup(opts: { dataDir?: string; clock?: ManualClock; partitionCount?: number } = {}): EventHubNamespace {
  const ns = EventHubNamespace.open({
    hubs: HUBS,
    partitionCount: opts.partitionCount ?? 4,
    ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  cleanups.push(() => ns.close());
  return ns;
}

function dispatcher(fnName: string, options: EventHubTriggerOptions): EventHubTriggerDispatcher {
  const d = new EventHubTriggerDispatcher(registry.get(fnName), { logger: silentLogger, ...options });
  cleanups.push(() => d.stop());
  return d.start();
}

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'local-eh-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function capturingLogger(): { logger: LocalLogger; lines: string[] } {
  const lines: string[] = [];
  return { lines, logger: (level, _category, message) => lines.push(`${level}: ${message}`) };
}

describe('publishing to an in-process hub', () => {
  it('hashes partition keys with a stable function (FNV-1a test vectors)', () => {
    expect(hashPartitionKey('')).toBe(0x811c9dc5);
    expect(hashPartitionKey('a')).toBe(0xe40c292c);
    expect(hashPartitionKey('foobar')).toBe(0xbf9cf968);
  });

  it('puts every event of a key on one partition, in order, with sequence numbers, offsets, times and properties', () => {
    const clock = new ManualClock(Date.UTC(2026, 4, 1, 12));
    const ns = setup({ clock });
    const hub = ns.hub('orders');
    const partition = hub.partitionFor('drone-7');
    const results = hub.publish(
      [1, 2, 3].map((n) => ({ body: { n }, partitionKey: 'drone-7', properties: { kind: 'test' } })),
    );
    expect(results.map((r) => r.partitionId)).toEqual([partition, partition, partition]);
    expect(results.map((r) => r.sequenceNumber)).toEqual([0, 1, 2]);
    // A second namespace (a restart, another process) maps the key to the same partition.
    expect(setup().hub('orders').partitionFor('drone-7')).toBe(partition);

    const events = hub.read(partition, 0);
    expect(events.map((e) => JSON.parse(e.body.toString()) as unknown)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(events.map((e) => Number(e.offset))).toEqual([...events.map((e) => Number(e.offset))].sort((a, b) => a - b));
    expect(new Set(events.map((e) => e.offset)).size).toBe(3);
    expect(events.every((e) => e.enqueuedTimeMs === Date.UTC(2026, 4, 1, 12) && e.properties.kind === 'test')).toBe(
      true,
    );
  });

  it('spreads events without a key round robin and keeps several keys apart', () => {
    const hub = setup().hub('orders');
    const spread = hub.publish([1, 2, 3, 4].map((n) => ({ body: n })));
    expect(new Set(spread.map((r) => r.partitionId)).size).toBe(4);
    const keys = Array.from({ length: 40 }, (_, i) => `drone-${i}`);
    const used = new Set(keys.map((k) => hub.partitionFor(k)));
    expect(used.size).toBeGreaterThan(1);
  });

  it('rejects an unknown hub with a clear error', () => {
    expect(() => setup().hub('nope')).toThrow(/No event hub named "nope"/);
  });
});

describe('the Event Hubs trigger dispatcher', () => {
  it('delivers per partition in order, one invocation at a time, with every event exactly once', async () => {
    const ns = setup();
    const active = new Map<string, number>();
    let overlapped = false;
    behaviour.set(F.many, async (_input, context) => {
      const p = (context.triggerMetadata?.partitionContext as { partitionId: string }).partitionId;
      active.set(p, (active.get(p) ?? 0) + 1);
      if ((active.get(p) ?? 0) > 1) overlapped = true;
      await new Promise((r) => setTimeout(r, 2));
      active.set(p, (active.get(p) ?? 0) - 1);
    });
    const d = dispatcher(F.many, { namespace: ns, host: batchOf({ maxEventBatchSize: 7 }) });
    const hub = ns.hub('orders');
    for (let round = 0; round < 10; round++) {
      hub.publish(['a', 'b', 'c', 'd', 'e'].map((k) => ({ body: { k, round }, partitionKey: k })));
      await new Promise((r) => setImmediate(r));
    }
    await d.whenIdle();
    expect(overlapped).toBe(false);
    const seen = new Map<string, number[]>();
    for (const c of calls.get(F.many) ?? []) {
      const md = c.context.triggerMetadata as {
        partitionContext: { partitionId: string };
        sequenceNumberArray: number[];
      };
      const list = seen.get(md.partitionContext.partitionId) ?? [];
      list.push(...md.sequenceNumberArray);
      seen.set(md.partitionContext.partitionId, list);
      expect((c.input as unknown[]).length).toBeLessThanOrEqual(7);
    }
    let total = 0;
    for (const [p, seqs] of seen) {
      expect(seqs).toEqual(Array.from({ length: hub.lastSequenceNumber(p) + 1 }, (_, i) => i));
      total += seqs.length;
    }
    expect(total).toBe(50);
    // Rounds of one key stay in publish order.
    const rounds = (calls.get(F.many) ?? [])
      .flatMap((c) => c.input as { k: string; round: number }[])
      .filter((b) => b.k === 'c')
      .map((b) => b.round);
    expect(rounds).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('sends a batch as soon as it is full, and a partial one when maxWaitTime has passed', async () => {
    const clock = new ManualClock();
    clockForCalls = clock;
    const ns = setup({ clock });
    dispatcher(F.many, {
      namespace: ns,
      clock,
      host: batchOf({ minEventBatchSize: 5, maxEventBatchSize: 5, maxWaitTimeMs: 1000 }),
    });
    ns.hub('orders').publish(Array.from({ length: 12 }, (_, i) => ({ body: i, partitionId: '1' })));
    await settle();
    const sizes = (): number[] => (calls.get(F.many) ?? []).map((c) => (c.input as unknown[]).length);
    expect(sizes()).toEqual([5, 5]);
    await clock.advance(999);
    expect(sizes()).toEqual([5, 5]);
    await clock.advance(1);
    expect(sizes()).toEqual([5, 5, 2]);
    expect((calls.get(F.many) ?? []).flatMap((c) => c.input as number[])).toEqual(
      Array.from({ length: 12 }, (_, i) => i),
    );
  });

  it('waits for minEventBatchSize, but no longer than maxWaitTime from the first waiting event', async () => {
    const clock = new ManualClock();
    const ns = setup({ clock });
    dispatcher(F.many, {
      namespace: ns,
      clock,
      host: batchOf({ minEventBatchSize: 3, maxEventBatchSize: 10, maxWaitTimeMs: 500 }),
    });
    const hub = ns.hub('orders');
    hub.publish([{ body: 'a', partitionId: '0' }]);
    await clock.advance(300);
    hub.publish([{ body: 'b', partitionId: '0' }]);
    await clock.advance(199);
    expect(calls.get(F.many)).toBeUndefined();
    await clock.advance(1);
    expect(calls.get(F.many)?.map((c) => c.input)).toEqual([['a', 'b']]);
    hub.publish(['c', 'd', 'e'].map((body) => ({ body, partitionId: '0' })));
    await settle();
    expect(calls.get(F.many)?.map((c) => c.input)).toEqual([
      ['a', 'b'],
      ['c', 'd', 'e'],
    ]);
  });

  it('hands cardinality many the host-shaped batch metadata', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1, 8, 30));
    const ns = setup({ clock });
    const d = dispatcher(F.many, { namespace: ns, clock });
    const hub = ns.hub('orders');
    const [r1, r2] = hub.publish([
      { body: { id: 1 }, partitionKey: 'k1', properties: { Source: 'sim' } },
      { body: { id: 2 }, partitionKey: 'k1' },
    ]);
    await d.whenIdle();
    const [call] = calls.get(F.many) ?? [];
    expect(call?.input).toEqual([{ id: 1 }, { id: 2 }]);
    const time = '2026-06-01T08:30:00.000Z';
    expect(call?.context.triggerMetadata).toEqual({
      partitionContext: {
        fullyQualifiedNamespace: ns.fullyQualifiedNamespace,
        eventHubName: 'orders',
        consumerGroup: 'billing',
        partitionId: r1?.partitionId,
      },
      partitionKeyArray: ['k1', 'k1'],
      offsetArray: [r1?.offset, r2?.offset],
      sequenceNumberArray: [0, 1],
      enqueuedTimeUtcArray: [time, time],
      // The worker lower-cases the first letter of every metadata key, user properties included.
      propertiesArray: [{ source: 'sim' }, {}],
      systemPropertiesArray: [0, 1].map((seq) => ({
        'x-opt-sequence-number': seq,
        'x-opt-offset': seq === 0 ? r1?.offset : r2?.offset,
        'x-opt-enqueued-time': time,
        'x-opt-partition-key': 'k1',
        sequenceNumber: seq,
        offset: seq === 0 ? r1?.offset : r2?.offset,
        enqueuedTimeUtc: time,
        partitionKey: 'k1',
      })),
    });
    expect(call?.context.functionName).toBe(F.many);
    expect(call?.context.options.trigger.type).toBe('eventHubTrigger');
  });

  it('hands cardinality one a single body, non-JSON text as a string, and singular metadata', async () => {
    const ns = setup();
    const d = dispatcher(F.one, { namespace: ns });
    ns.hub('orders').publish([
      { body: { id: 1 }, partitionId: '2' },
      { body: Buffer.from('not json{'), partitionId: '2' },
    ]);
    await d.whenIdle();
    const got = calls.get(F.one) ?? [];
    expect(got.map((c) => c.input)).toEqual([{ id: 1 }, 'not json{']);
    expect(got[1]?.context.triggerMetadata).toMatchObject({
      partitionContext: { eventHubName: 'orders', consumerGroup: '$Default', partitionId: '2' },
      sequenceNumber: 1,
      partitionKey: null,
      properties: {},
      systemProperties: { 'x-opt-sequence-number': 1 },
    });
  });

  it('checkpoints after a successful invocation and after a failing one (no retry policy), and moves on', async () => {
    const ns = setup();
    const { logger, lines } = capturingLogger();
    behaviour.set(F.many, (input) => {
      if ((input as number[]).includes(1)) throw new Error('boom');
    });
    const d = dispatcher(F.many, { namespace: ns, logger });
    const hub = ns.hub('orders');
    hub.publish([{ body: 1, partitionId: '0' }]);
    await d.whenIdle();
    const key = { hub: 'orders', consumerGroup: 'billing', owner: F.many, partitionId: '0' };
    expect(ns.checkpoints.get(key)?.sequenceNumber).toBe(0);
    expect(lines.some((l) => l.startsWith('error:') && l.includes('boom') && l.includes('no retry policy'))).toBe(true);
    hub.publish([{ body: 2, partitionId: '0' }]);
    await d.whenIdle();
    expect(ns.checkpoints.get(key)?.sequenceNumber).toBe(1);
    expect(calls.get(F.many)?.map((c) => c.input)).toEqual([[1], [2]]);
  });

  it('retries a failing batch with a fixed delay; once retries run out it alerts, holds the batch unchecked with later events behind it, and runs it as a last attempt until it goes through', async () => {
    const clock = new ManualClock();
    clockForCalls = clock;
    const ns = setup({ clock });
    const { logger, lines } = capturingLogger();
    let healed = false;
    behaviour.set(F.fixed, (input) => {
      if (!healed && (input as string[]).includes('poison')) throw new Error('still failing');
    });
    const d = dispatcher(F.fixed, { namespace: ns, clock, logger });
    const hub = ns.hub('orders');
    const key = { hub: 'orders', consumerGroup: '$Default', owner: F.fixed, partitionId: '3' };
    hub.publish([{ body: 'poison', partitionId: '3' }]);
    await settle();
    expect(calls.get(F.fixed)).toHaveLength(1);
    await clock.advance(1999);
    expect(calls.get(F.fixed)).toHaveLength(1);
    await clock.advance(1);
    expect(calls.get(F.fixed)).toHaveLength(2);
    hub.publish([{ body: 'fine', partitionId: '3' }]);
    await clock.advance(2000);
    // Retries 1 and 2 are spent: the batch is held, not checkpointed, and "fine" waits behind it.
    expect(lines.filter((l) => l.startsWith('warning:'))).toHaveLength(2);
    const alerts = lines
      .filter((l) => l.startsWith('error:'))
      .map((l) => JSON.parse(l.slice('error: '.length)) as Record<string, unknown>);
    expect(alerts).toEqual([
      expect.objectContaining({
        alert: 'eventhubs.batchHeld',
        function: F.fixed,
        hub: 'orders',
        partitionId: '3',
        firstSequenceNumber: 0,
        lastSequenceNumber: 0,
        retries: 2,
        error: 'still failing',
      }),
    ]);
    expect(ns.checkpoints.get(key)).toBeUndefined();
    expect(d.position('3')).toBe(0);

    await clock.advance(2000);
    expect(lines.filter((l) => l.includes('eventhubs.batchHeld'))).toHaveLength(2);
    healed = true;
    await clock.advance(2000);
    await d.whenIdle();
    const got = calls.get(F.fixed) ?? [];
    expect(got.map((c) => c.context.retryContext)).toEqual([
      { retryCount: 0, maxRetryCount: 2 },
      { retryCount: 1, maxRetryCount: 2 },
      { retryCount: 2, maxRetryCount: 2 },
      // Held: every further run is a last attempt, so the app parks the batch rather than throw.
      { retryCount: 2, maxRetryCount: 2 },
      { retryCount: 2, maxRetryCount: 2 },
      { retryCount: 0, maxRetryCount: 2 },
    ]);
    expect(got.map((c) => c.input)).toEqual([['poison'], ['poison'], ['poison'], ['poison'], ['poison'], ['fine']]);
    expect(ns.checkpoints.get(key)?.sequenceNumber).toBe(1);
    expect(lines.some((l) => l.includes('Checkpointing past'))).toBe(false);
  });

  it('backs off exponentially between retries up to the maximum interval, then holds at the maximum interval', async () => {
    const clock = new ManualClock();
    clockForCalls = clock;
    const start = clock.now();
    const ns = setup({ clock });
    let down = true;
    behaviour.set(F.exponential, () => {
      if (down) throw new Error('down');
    });
    const d = dispatcher(F.exponential, { namespace: ns, clock });
    ns.hub('orders').publish([{ body: 'x', partitionId: '0' }]);
    await clock.advance(10_000);
    // Retries after 1 s, 2 s, then 3 s (4 s capped at the 3 s maximum); held, it runs again 3 s later.
    expect((calls.get(F.exponential) ?? []).map((c) => c.at - start)).toEqual([0, 1000, 3000, 6000, 9000]);
    const key = { hub: 'orders', consumerGroup: '$Default', owner: F.exponential, partitionId: '0' };
    expect(ns.checkpoints.get(key)).toBeUndefined();
    down = false;
    await clock.advance(3000);
    await d.whenIdle();
    expect((calls.get(F.exponential) ?? []).map((c) => c.at - start)).toEqual([0, 1000, 3000, 6000, 9000, 12_000]);
    expect(ns.checkpoints.get(key)?.sequenceNumber).toBe(0);
  });

  it('resolves %Setting% consumer groups and refuses groups the hub does not declare', () => {
    const ns = setup();
    const d = new EventHubTriggerDispatcher(registry.get(F.settingGroup), {
      namespace: ns,
      settings: { OrdersGroup: 'billing' },
      logger: silentLogger,
    });
    expect(d.consumerGroup).toBe('billing');
    expect(() => new EventHubTriggerDispatcher(registry.get(F.settingGroup), { namespace: ns, settings: {} })).toThrow(
      /App setting "OrdersGroup"/,
    );
    expect(() => new EventHubTriggerDispatcher(registry.get(F.unknownGroup), { namespace: ns })).toThrow(
      /consumer group "nobody"/,
    );
  });

  it('publishes eventHub output bindings (extra outputs and the return value) after the invocation', async () => {
    const ns = setup();
    behaviour.set(F.forward, (input, context) => {
      context.extraOutputs.set(
        auditOut,
        (input as { id: number }[]).map((e) => ({ seen: e.id })),
      );
      return 'plain text';
    });
    const d = dispatcher(F.forward, {
      namespace: ns,
      settings: { AuditHub: 'audit' },
      afterInvocation: eventHubOutputHook(ns, { AuditHub: 'audit' }),
    });
    ns.hub('orders').publish([{ body: { id: 1 } }, { body: { id: 2 } }]);
    await d.whenIdle();
    const audit = ns.hub('audit');
    const bodies = audit.partitionIds
      .flatMap((p) => audit.read(p, 0))
      .map((e) => e.body.toString())
      .sort();
    expect(bodies).toEqual(['plain text', 'plain text', '{"seen":1}', '{"seen":2}'].sort());

    // The same function, called directly: outputs are published only when set.
    const fn = registry.get(F.forward);
    const context = createInvocationContext(fn, { logger: silentLogger });
    expect(publishEventHubOutputs(fn, context, undefined, ns, { AuditHub: 'audit' })).toBe(0);
    context.extraOutputs.set(auditOut, { one: true });
    expect(publishEventHubOutputs(fn, context, ['a', 'b'], ns, { AuditHub: 'audit' })).toBe(3);
  });
});

describe('durability under a data directory', () => {
  it('keeps accepted events and checkpoints across a restart; the consumer resumes after its checkpoint', async () => {
    const dir = tempDir();
    const first = EventHubNamespace.open({ hubs: HUBS, dataDir: dir, partitionCount: 2 });
    const d1 = new EventHubTriggerDispatcher(registry.get(F.many), { namespace: first, logger: silentLogger }).start();
    first.hub('orders').publish([1, 2, 3].map((n) => ({ body: { n }, partitionId: '0', properties: { n } })));
    await d1.whenIdle();
    await d1.stop();
    first.hub('orders').publish([
      { body: { n: 4 }, partitionId: '0' },
      { body: Buffer.from([0xff, 0x00, 0x01]), partitionId: '0' },
    ]);
    // No orderly shutdown (as after kill -9): the files are left as they are, plus a torn half-written line.
    const file = path.join(dir, 'eventhubs', 'orders', 'partition-0.log');
    fs.appendFileSync(file, '{"s":5,"t":1');
    calls.clear();

    const second = EventHubNamespace.open({ hubs: HUBS, dataDir: dir, partitionCount: 8 });
    cleanups.push(() => {
      second.close();
      first.close();
    });
    const hub = second.hub('orders');
    expect(hub.partitionIds).toHaveLength(2); // a hub keeps the partition count it was created with
    expect(hub.lastSequenceNumber('0')).toBe(4);
    expect(hub.read('0', 0, 1)[0]?.properties).toEqual({ n: 1 });
    expect(hub.read('0', 4, 1)[0]?.body).toEqual(Buffer.from([0xff, 0x00, 0x01]));
    const d2 = new EventHubTriggerDispatcher(registry.get(F.many), { namespace: second, logger: silentLogger });
    expect(d2.position('0')).toBe(3);
    d2.start();
    await d2.whenIdle();
    await d2.stop();
    const resumed = calls.get(F.many) ?? [];
    expect(
      resumed.map((c) => (c.context.triggerMetadata as { sequenceNumberArray: number[] }).sequenceNumberArray),
    ).toEqual([[3, 4]]);
    expect((resumed[0]?.input as unknown[])[0]).toEqual({ n: 4 });
    // New events continue the sequence after the torn line was dropped.
    expect(hub.publish([{ body: 'next', partitionId: '0' }])[0]?.sequenceNumber).toBe(5);
  });
});

describe('host.json options', () => {
  it("reads the repo's host.json batching and route prefix, with the host's defaults for the rest", () => {
    const options = readHostOptions(path.join(__dirname, '../../../host.json'));
    expect(options).toEqual({
      routePrefix: 'api',
      eventHubs: { maxEventBatchSize: 1000, minEventBatchSize: 1, maxWaitTimeMs: 1000, initialOffset: 'fromStart' },
    });
    expect(hostOptionsFrom({})).toEqual(DEFAULT_HOST_OPTIONS);
    expect(parseTimeSpan('1.02:03:04.5')).toBe(((24 + 2) * 3600 + 3 * 60 + 4.5) * 1000);
    expect(() =>
      hostOptionsFrom({ extensions: { eventHubs: { minEventBatchSize: 10, maxEventBatchSize: 5 } } }),
    ).toThrow(/must not exceed/);
    expect(() => parseTimeSpan('soon')).toThrow(/not a TimeSpan/);
  });
});
