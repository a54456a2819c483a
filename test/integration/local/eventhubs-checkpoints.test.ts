/**
 * The local hubs' checkpoint cadence: a partition's checkpoint is written at most every
 * `checkpointIntervalMs`, on shutdown, and when everything is caught up for someone waiting; a
 * crash before it is written redelivers the batches since the last one (at least once), a clean
 * shutdown writes it so nothing is delivered twice. Also: bodies published as JSON values come
 * back byte for byte after a restart.
 */
import '../../support/install-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { app } from '@azure/functions';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventHubDecl } from '../../../functions/resources';
import { ManualClock, settle } from '../../../packages/functions-local/src/clock';
import { EventHubNamespace } from '../../../packages/functions-local/src/eventhubs/hub';
import { EventHubTriggerDispatcher } from '../../../packages/functions-local/src/eventhubs/trigger';
import { silentLogger } from '../../../packages/functions-local/src/host/invocation';
import { currentRegistry } from '../../../packages/functions-local/src/core/functions-core';

const HUBS: EventHubDecl[] = [{ name: 'cadence', partitionKey: 'id', consumerGroups: [], capture: false }];
const FN = 'localEhCheckpointCadence';
const seen: number[][] = [];
app.eventHub(FN, {
  connection: 'EventHubConnection',
  eventHubName: 'cadence',
  cardinality: 'many',
  handler: async (input: unknown) => void seen.push((input as { n: number }[]).map((e) => e.n)),
});
const registry = currentRegistry();
const KEY = { hub: 'cadence', consumerGroup: '$Default', owner: FN, partitionId: '0' };

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  seen.length = 0;
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'local-eh-cp-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function open(dir: string, clock: ManualClock): EventHubNamespace {
  const ns = EventHubNamespace.open({ hubs: HUBS, dataDir: dir, partitionCount: 1, clock });
  cleanups.push(() => ns.close());
  return ns;
}

const publish = (ns: EventHubNamespace, ...values: number[]): void =>
  void ns.hub('cadence').publish(values.map((n) => ({ body: { n }, partitionId: '0' })));

describe('checkpoint cadence of the local Event Hubs trigger', () => {
  it('writes the first checkpoint at once, later ones at most every interval, each covering every batch finished meanwhile', async () => {
    const clock = new ManualClock();
    const ns = open(tempDir(), clock);
    const d = new EventHubTriggerDispatcher(registry.get(FN), {
      namespace: ns,
      clock,
      logger: silentLogger,
      checkpointIntervalMs: 1000,
    }).start();
    cleanups.push(() => d.stop());
    publish(ns, 1);
    await settle();
    expect(ns.checkpoints.get(KEY)?.sequenceNumber).toBe(0);
    publish(ns, 2);
    await settle();
    publish(ns, 3);
    await settle();
    expect(seen).toEqual([[1], [2], [3]]);
    // Both batches are done, but the checkpoint waits for the interval.
    expect(ns.checkpoints.get(KEY)?.sequenceNumber).toBe(0);
    await clock.advance(999);
    expect(ns.checkpoints.get(KEY)?.sequenceNumber).toBe(0);
    await clock.advance(1);
    expect(ns.checkpoints.get(KEY)?.sequenceNumber).toBe(2);
  });

  it('redelivers the batches after the last written checkpoint when the process dies before the next one', async () => {
    const dir = tempDir();
    const clock = new ManualClock();
    const first = open(dir, clock);
    const d1 = new EventHubTriggerDispatcher(registry.get(FN), {
      namespace: first,
      clock,
      logger: silentLogger,
      checkpointIntervalMs: 60_000,
    }).start();
    publish(first, 1);
    await settle();
    publish(first, 2, 3);
    await settle();
    expect(seen).toEqual([[1], [2, 3]]);
    // kill -9: no stop, no flush; the files are as they are.
    first.close();
    seen.length = 0;

    const second = open(dir, clock);
    expect(second.checkpoints.get(KEY)?.sequenceNumber).toBe(0);
    const d2 = new EventHubTriggerDispatcher(registry.get(FN), {
      namespace: second,
      clock,
      logger: silentLogger,
      checkpointIntervalMs: 60_000,
    }).start();
    await d2.whenIdle();
    await d2.stop();
    expect(seen).toEqual([[2, 3]]);
    cleanups.push(() => d1.stop());
  });

  it('writes the checkpoint on a clean shutdown, so a restart delivers nothing again', async () => {
    const dir = tempDir();
    const clock = new ManualClock();
    const first = open(dir, clock);
    const d1 = new EventHubTriggerDispatcher(registry.get(FN), {
      namespace: first,
      clock,
      logger: silentLogger,
      checkpointIntervalMs: 60_000,
    }).start();
    publish(first, 1);
    await settle();
    publish(first, 2, 3);
    await settle();
    expect(first.checkpoints.get(KEY)?.sequenceNumber).toBe(0);
    await d1.stop();
    expect(first.checkpoints.get(KEY)?.sequenceNumber).toBe(2);
    first.close();
    seen.length = 0;

    const second = open(dir, clock);
    const d2 = new EventHubTriggerDispatcher(registry.get(FN), {
      namespace: second,
      clock,
      logger: silentLogger,
      checkpointIntervalMs: 60_000,
    });
    expect(d2.position('0')).toBe(3);
    publish(second, 4);
    d2.start();
    await d2.whenIdle();
    await d2.stop();
    expect(seen).toEqual([[4]]);
  });

  it('gives JSON bodies back byte for byte after a restart, and text and binary bodies too', () => {
    const dir = tempDir();
    const clock = new ManualClock();
    const bodies = [
      { n: 1, s: 'quote " and \\ and é', big: 1e21, nested: { a: [1, null, true] } },
      'plain text',
      Buffer.from([0xff, 0x00, 0x7f]),
    ];
    const first = open(dir, clock);
    first.hub('cadence').publish(bodies.map((body) => ({ body, partitionId: '0' })));
    const before = first
      .hub('cadence')
      .read('0', 0)
      .map((e) => e.body);
    first.close();
    const after = open(dir, clock)
      .hub('cadence')
      .read('0', 0)
      .map((e) => e.body);
    expect(after).toEqual(before);
    expect(after[0]?.toString('utf8')).toBe(JSON.stringify(bodies[0]));
    expect(after[1]?.toString('utf8')).toBe('"plain text"');
    expect(after[2]).toEqual(Buffer.from([0xff, 0x00, 0x7f]));
  });
});
