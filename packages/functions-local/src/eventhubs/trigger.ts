/**
 * Runs `eventHubTrigger` functions against the in-process hubs, the way the Functions host's
 * Event Hubs extension does: one dispatcher per (hub, consumer group, function), one invocation
 * at a time per partition (so a partition's events are handled in order), batches shaped by
 * host.json `extensions.eventHubs`, trigger metadata as the worker hands it to Node handlers, the
 * function's retry policy, and checkpoints: a partition's position moves after every invocation
 * that succeeded, and is written to the checkpoint store at most every `checkpointIntervalMs`
 * (as the SDK's processors checkpoint on a cadence, not per batch: each write rewrites the store),
 * whenever `whenIdle` finds everything caught up, and on `stop`. A crash in between redelivers the
 * batches since the last written checkpoint: at least once, as in Azure.
 *
 * A failing batch: the host checkpoints past it once its retry policy is spent, and its events
 * are gone. Here a batch whose retries ran out is held instead: an `alert` is logged at error
 * level and the batch is run again, as a last attempt (so the app parks it, see
 * functions/shared/hub-batch.ts), every maximum retry interval until it goes through; later
 * events of the partition wait behind it, as order demands. Only a function without a retry
 * policy is checkpointed past after one failure, as the host does, with an error line.
 *
 * Batching follows the extension's documented rule: a batch of up to `maxEventBatchSize` goes as
 * soon as at least `minEventBatchSize` events are waiting, or when `maxWaitTime` has passed since
 * the dispatcher started waiting for the first of them. With the default minimum of 1 no wait
 * happens; events that arrive while a batch runs form the next batch.
 *
 * Checkpoints are kept per function as well as per consumer group. In Azure two functions on one
 * consumer group would compete for the same partitions; locally each simply gets every event.
 *
 * Over 300 lines: batching, retries and holding, checkpoint cadence and the trigger metadata all
 * act on one partition's state; split, that state would be shared across files.
 */
import type { InvocationContext, RetryContext } from '@azure/functions';
import type { RegisteredFunction } from '../core/functions-core';
import type { Clock } from '../clock';
import { sleep, systemClock } from '../clock';
import { DEFAULT_HOST_OPTIONS } from '../host/host-options';
import type { EventHubsHostOptions } from '../host/host-options';
import {
  consoleLogger,
  createInvocationContext,
  describeError,
  retryDelayMs,
  runWithRetries,
} from '../host/invocation';
import type { AfterInvocation, LocalLogger } from '../host/invocation';
import { resolveOptionalSetting } from '../host/settings';
import type { Settings } from '../host/settings';
import { DEFAULT_CONSUMER_GROUP } from './hub';
import type { EventHub, EventHubNamespace } from './hub';
import type { CheckpointKey, StoredEvent } from './store';

export interface EventHubTriggerOptions {
  readonly namespace: EventHubNamespace;
  readonly settings?: Settings;
  readonly host?: EventHubsHostOptions;
  readonly clock?: Clock;
  readonly logger?: LocalLogger;
  /** Carries out output bindings after a successful invocation (see outputs.ts). */
  readonly afterInvocation?: AfterInvocation;
  /** Longest a finished batch waits for its checkpoint to be written; 0 writes after every batch. */
  readonly checkpointIntervalMs?: number;
}

export const DEFAULT_CHECKPOINT_INTERVAL_MS = 250;

interface PartitionState {
  readonly id: string;
  /** Next sequence number to deliver. */
  next: number;
  busy: boolean;
  pumpQueued: boolean;
  waitStart?: number;
  cancelWait?: () => void;
  /** Finished and not yet written to the checkpoint store. */
  unwritten?: { readonly sequenceNumber: number; readonly offset: string };
  lastWrittenAt: number;
  cancelCheckpoint?: () => void;
}

/** The worker camel-cases the first letter of every key of the host's trigger metadata, nested ones too. */
function camelCaseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camelCaseKeys);
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => [
      k.charAt(0).toLowerCase() + k.slice(1),
      camelCaseKeys(v),
    ]),
  );
}

export class EventHubTriggerDispatcher {
  readonly hubName: string;
  readonly consumerGroup: string;
  readonly cardinality: 'one' | 'many';
  readonly #fn: RegisteredFunction;
  readonly #hub: EventHub;
  readonly #options: EventHubTriggerOptions;
  readonly #batch: EventHubsHostOptions;
  readonly #clock: Clock;
  readonly #logger: LocalLogger;
  readonly #partitions: PartitionState[];
  readonly #inflight = new Set<Promise<void>>();
  readonly #idleWaiters: (() => void)[] = [];
  readonly #abort = new AbortController();
  #unsubscribe: (() => void) | undefined;
  #stopped = false;

  constructor(fn: RegisteredFunction, options: EventHubTriggerOptions) {
    if (fn.trigger.type.toLowerCase() !== 'eventhubtrigger')
      throw new Error(`Function "${fn.name}" is not an eventHubTrigger function.`);
    const settings = options.settings ?? {};
    const where = (prop: string): string => `function "${fn.name}" (${prop})`;
    const hubName = resolveOptionalSetting(fn.trigger.eventHubName, settings, where('eventHubName'));
    if (!hubName) throw new Error(`Function "${fn.name}" names no eventHubName.`);
    this.hubName = hubName;
    this.consumerGroup =
      resolveOptionalSetting(fn.trigger.consumerGroup, settings, where('consumerGroup')) ?? DEFAULT_CONSUMER_GROUP;
    this.#hub = options.namespace.hub(hubName);
    if (!this.#hub.consumerGroups.has(this.consumerGroup)) {
      throw new Error(
        `Function "${fn.name}" reads hub "${hubName}" with consumer group "${this.consumerGroup}", which the hub does not have ` +
          `(declared: ${[...this.#hub.consumerGroups].join(', ')}; see functions/resources.ts EVENT_HUBS).`,
      );
    }
    this.cardinality = fn.trigger.cardinality === 'many' ? 'many' : 'one';
    this.#fn = fn;
    this.#options = options;
    this.#batch = options.host ?? DEFAULT_HOST_OPTIONS.eventHubs;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? consoleLogger;
    this.#partitions = this.#hub.partitionIds.map((id) => {
      const cp = options.namespace.checkpoints.get(this.#key(id));
      const next = cp
        ? cp.sequenceNumber + 1
        : this.#batch.initialOffset === 'fromEnd'
          ? this.#hub.lastSequenceNumber(id) + 1
          : 0;
      return { id, next, busy: false, pumpQueued: false, lastWrittenAt: Number.NEGATIVE_INFINITY };
    });
  }

  get functionName(): string {
    return this.#fn.name;
  }

  start(): this {
    if (this.#unsubscribe || this.#stopped) return this;
    this.#unsubscribe = this.#hub.onAppend((id) => {
      const state = this.#partitions.find((p) => p.id === id);
      if (state) this.#queuePump(state);
    });
    for (const p of this.#partitions) this.#queuePump(p);
    return this;
  }

  /** Stops taking batches, abandons retry waits (those events stay unchecked) and waits for running invocations. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe?.();
    this.#abort.abort();
    for (const p of this.#partitions) this.#clearWait(p);
    await Promise.allSettled([...this.#inflight]);
    for (const p of this.#partitions) this.#writeCheckpoint(p);
    this.#resolveIdle(true);
  }

  /** Resolves once every partition is caught up with nothing running. */
  whenIdle(): Promise<void> {
    return new Promise((resolve) => {
      this.#idleWaiters.push(resolve);
      this.#resolveIdle(false);
    });
  }

  /** The next sequence number this function will get from a partition. */
  position(partitionId: string): number {
    const p = this.#partitions.find((s) => s.id === partitionId);
    if (!p) throw new Error(`Hub "${this.hubName}" has no partition "${partitionId}".`);
    return p.next;
  }

  #key(partitionId: string): CheckpointKey {
    return { hub: this.hubName, consumerGroup: this.consumerGroup, owner: this.#fn.name, partitionId };
  }

  #queuePump(p: PartitionState): void {
    if (p.pumpQueued || this.#stopped) return;
    p.pumpQueued = true;
    // Deferred so a publisher's call returns first and events published in the same turn batch together.
    setImmediate(() => {
      p.pumpQueued = false;
      this.#pump(p);
    });
  }

  #pump(p: PartitionState): void {
    if (this.#stopped || p.busy) return;
    const pending = this.#hub.lastSequenceNumber(p.id) - p.next + 1;
    if (pending <= 0) {
      this.#clearWait(p);
      this.#resolveIdle(false);
      return;
    }
    const max = this.cardinality === 'one' ? 1 : this.#batch.maxEventBatchSize;
    const wanted = Math.min(this.#batch.minEventBatchSize, max);
    const now = this.#clock.now();
    p.waitStart ??= now;
    const waited = now - p.waitStart;
    if (pending < wanted && waited < this.#batch.maxWaitTimeMs) {
      p.cancelWait ??= this.#clock.setTimer(this.#batch.maxWaitTimeMs - waited, () => {
        p.cancelWait = undefined;
        this.#pump(p);
      });
      return;
    }
    this.#clearWait(p);
    const batch = this.#hub.read(p.id, p.next, max);
    p.busy = true;
    const run = this.#process(p, batch)
      .catch((e: unknown) =>
        this.#logger('error', this.#category, `Dispatcher failure on partition ${p.id}: ${describeError(e)}`),
      )
      .finally(() => {
        p.busy = false;
        this.#inflight.delete(run);
        this.#queuePump(p);
      });
    this.#inflight.add(run);
  }

  get #category(): string {
    return `EventHubs.${this.#fn.name}`;
  }

  #clearWait(p: PartitionState): void {
    p.cancelWait?.();
    p.cancelWait = undefined;
    p.waitStart = undefined;
  }

  #resolveIdle(force: boolean): void {
    const idle = this.#partitions.every((p) => !p.busy && p.next > this.#hub.lastSequenceNumber(p.id));
    if (!idle && !force) return;
    if (idle && this.#idleWaiters.length > 0) for (const p of this.#partitions) this.#writeCheckpoint(p);
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  async #process(p: PartitionState, batch: readonly StoredEvent[]): Promise<void> {
    const first = batch[0];
    const last = batch[batch.length - 1];
    if (!first || !last) return;
    const range =
      batch.length === 1
        ? `sequence number ${first.sequenceNumber}`
        : `sequence numbers ${first.sequenceNumber}-${last.sequenceNumber}`;
    const policy = this.#fn.metadata.retryOptions;
    let outcome = await runWithRetries(
      policy,
      {
        clock: this.#clock,
        signal: this.#abort.signal,
        onRetry: (retry, delay, e) =>
          this.#logger(
            'warning',
            this.#category,
            `Partition ${p.id}, ${range} failed (${describeError(e)}); retry ${retry} in ${delay} ms.`,
          ),
      },
      (retryContext) => this.#invoke(p, batch, retryContext),
    );
    // Retries spent: hold the batch and run it again as a last attempt until it goes through.
    for (let held = 1; policy && !outcome.ok && !outcome.aborted; held++) {
      const waitMs = Math.max(1, retryDelayMs(policy, Math.max(1, policy.maxRetryCount)));
      this.#logger(
        'error',
        this.#category,
        JSON.stringify({
          alert: 'eventhubs.batchHeld',
          function: this.#fn.name,
          hub: this.hubName,
          partitionId: p.id,
          firstSequenceNumber: first.sequenceNumber,
          lastSequenceNumber: last.sequenceNumber,
          retries: outcome.retries,
          held,
          error: describeError(outcome.error),
          next: `not checkpointed; run again as a last attempt in ${waitMs} ms`,
        }),
      );
      if (!(await sleep(this.#clock, waitMs, this.#abort.signal))) return; // stopping: unchecked, delivered again next time
      const lastAttempt: RetryContext = { retryCount: policy.maxRetryCount, maxRetryCount: policy.maxRetryCount };
      outcome = await this.#invoke(p, batch, lastAttempt).then(
        () => ({ ok: true }) as const,
        (error: unknown) => ({ ok: false, error, retries: policy.maxRetryCount, aborted: false }) as const,
      );
    }
    if (!outcome.ok) {
      if (outcome.aborted) return; // stopping: the batch stays unchecked and is delivered again next time
      this.#logger(
        'error',
        this.#category,
        `Partition ${p.id}, ${range} failed and no retry policy is set: ${describeError(outcome.error)}. Checkpointing past it and moving on.`,
      );
    }
    p.next = last.sequenceNumber + 1;
    p.unwritten = { sequenceNumber: last.sequenceNumber, offset: last.offset };
    const interval = this.#options.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;
    const due = p.lastWrittenAt + interval - this.#clock.now();
    if (due <= 0) this.#writeCheckpoint(p);
    else
      p.cancelCheckpoint ??= this.#clock.setTimer(due, () => {
        p.cancelCheckpoint = undefined;
        this.#writeCheckpoint(p);
      });
  }

  #writeCheckpoint(p: PartitionState): void {
    p.cancelCheckpoint?.();
    p.cancelCheckpoint = undefined;
    const done = p.unwritten;
    if (!done) return;
    p.unwritten = undefined;
    p.lastWrittenAt = this.#clock.now();
    this.#options.namespace.checkpoints.set(this.#key(p.id), {
      ...done,
      updatedAt: new Date(p.lastWrittenAt).toISOString(),
    });
  }

  async #invoke(
    p: PartitionState,
    batch: readonly StoredEvent[],
    retryContext: RetryContext | undefined,
  ): Promise<void> {
    const context: InvocationContext = createInvocationContext(this.#fn, {
      triggerMetadata: this.#triggerMetadata(p.id, batch),
      ...(retryContext ? { retryContext } : {}),
      logger: this.#logger,
    });
    const bodies = batch.map((e) => this.#bodyOf(e));
    const input = this.cardinality === 'many' ? bodies : bodies[0];
    const result = await this.#fn.handler(input, context);
    await this.#options.afterInvocation?.(this.#fn, context, result);
  }

  /** Strings that parse as JSON arrive parsed, others as strings: the worker's rule. `dataType: binary` gets Buffers. */
  #bodyOf(event: StoredEvent): unknown {
    if (this.#fn.trigger.dataType === 'binary') return Buffer.from(event.body);
    const text = event.body.toString('utf8');
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }

  /**
   * The host's binding data for an Event Hubs trigger as the worker hands it over: camel-cased.
   * Built in that form directly (one pass, each time formatted once) rather than host-shaped and
   * then re-keyed, since this runs for every event; only the events' own properties, whose keys
   * are not ours, go through the generic camel-casing.
   */
  #triggerMetadata(partitionId: string, batch: readonly StoredEvent[]): Record<string, unknown> {
    const partitionContext = {
      fullyQualifiedNamespace: this.#options.namespace.fullyQualifiedNamespace,
      eventHubName: this.hubName,
      consumerGroup: this.consumerGroup,
      partitionId,
    };
    const properties = (e: StoredEvent): unknown =>
      Object.keys(e.properties).length === 0 ? {} : camelCaseKeys({ ...e.properties });
    const system = (e: StoredEvent, enqueued: string): Record<string, unknown> => ({
      'x-opt-sequence-number': e.sequenceNumber,
      'x-opt-offset': e.offset,
      'x-opt-enqueued-time': enqueued,
      ...(e.partitionKey !== undefined ? { 'x-opt-partition-key': e.partitionKey } : {}),
      sequenceNumber: e.sequenceNumber,
      offset: e.offset,
      enqueuedTimeUtc: enqueued,
      partitionKey: e.partitionKey ?? null,
    });
    if (this.cardinality === 'one') {
      const e = batch[0] as StoredEvent;
      const enqueued = new Date(e.enqueuedTimeMs).toISOString();
      return {
        partitionContext,
        partitionKey: e.partitionKey ?? null,
        offset: e.offset,
        sequenceNumber: e.sequenceNumber,
        enqueuedTimeUtc: enqueued,
        properties: properties(e),
        systemProperties: system(e, enqueued),
      };
    }
    const n = batch.length;
    const partitionKeyArray = new Array<string | null>(n);
    const offsetArray = new Array<string>(n);
    const sequenceNumberArray = new Array<number>(n);
    const enqueuedTimeUtcArray = new Array<string>(n);
    const propertiesArray = new Array<unknown>(n);
    const systemPropertiesArray = new Array<Record<string, unknown>>(n);
    for (let i = 0; i < n; i++) {
      const e = batch[i] as StoredEvent;
      const enqueued = new Date(e.enqueuedTimeMs).toISOString();
      partitionKeyArray[i] = e.partitionKey ?? null;
      offsetArray[i] = e.offset;
      sequenceNumberArray[i] = e.sequenceNumber;
      enqueuedTimeUtcArray[i] = enqueued;
      propertiesArray[i] = properties(e);
      systemPropertiesArray[i] = system(e, enqueued);
    }
    return {
      partitionContext,
      partitionKeyArray,
      offsetArray,
      sequenceNumberArray,
      enqueuedTimeUtcArray,
      propertiesArray,
      systemPropertiesArray,
    };
  }
}

/** Creates and starts a dispatcher for every `eventHubTrigger` function given. */
export function startEventHubTriggers(
  functions: readonly RegisteredFunction[],
  options: EventHubTriggerOptions,
): EventHubTriggerDispatcher[] {
  const dispatchers = functions
    .filter((f) => f.trigger.type.toLowerCase() === 'eventhubtrigger')
    .map((f) => new EventHubTriggerDispatcher(f, options));
  for (const d of dispatchers) d.start();
  return dispatchers;
}
