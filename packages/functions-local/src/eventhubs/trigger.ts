/**
 * Runs `eventHubTrigger` functions against the in-process hubs, the way the Functions host's
 * Event Hubs extension does: one dispatcher per (hub, consumer group, function), one invocation
 * at a time per partition (so a partition's events are handled in order), batches shaped by
 * host.json `extensions.eventHubs`, trigger metadata as the worker hands it to Node handlers, the
 * function's retry policy, and a checkpoint after every invocation that succeeded.
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
 * Over 300 lines: batching, checkpoints and the retry loop are one state machine per partition.
 */
import type { InvocationContext, RetryContext } from '@azure/functions';
import type { RegisteredFunction } from '../core/functions-core';
import type { Clock } from '../clock';
import { sleep, systemClock } from '../clock';
import { DEFAULT_HOST_OPTIONS } from '../host/host-options';
import type { EventHubsHostOptions } from '../host/host-options';
import { consoleLogger, createInvocationContext, describeError, retryDelayMs, runWithRetries } from '../host/invocation';
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
}

interface PartitionState {
  readonly id: string;
  /** Next sequence number to deliver. */
  next: number;
  busy: boolean;
  pumpQueued: boolean;
  waitStart?: number;
  cancelWait?: () => void;
}

/** The worker camel-cases the first letter of every key of the host's trigger metadata, nested ones too. */
function camelCaseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camelCaseKeys);
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => [k.charAt(0).toLowerCase() + k.slice(1), camelCaseKeys(v)]),
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
    if (fn.trigger.type.toLowerCase() !== 'eventhubtrigger') throw new Error(`Function "${fn.name}" is not an eventHubTrigger function.`);
    const settings = options.settings ?? {};
    const where = (prop: string): string => `function "${fn.name}" (${prop})`;
    const hubName = resolveOptionalSetting(fn.trigger.eventHubName, settings, where('eventHubName'));
    if (!hubName) throw new Error(`Function "${fn.name}" names no eventHubName.`);
    this.hubName = hubName;
    this.consumerGroup = resolveOptionalSetting(fn.trigger.consumerGroup, settings, where('consumerGroup')) ?? DEFAULT_CONSUMER_GROUP;
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
      const next = cp ? cp.sequenceNumber + 1 : this.#batch.initialOffset === 'fromEnd' ? this.#hub.lastSequenceNumber(id) + 1 : 0;
      return { id, next, busy: false, pumpQueued: false };
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
      .catch((e: unknown) => this.#logger('error', this.#category, `Dispatcher failure on partition ${p.id}: ${describeError(e)}`))
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
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  async #process(p: PartitionState, batch: readonly StoredEvent[]): Promise<void> {
    const first = batch[0];
    const last = batch[batch.length - 1];
    if (!first || !last) return;
    const range = batch.length === 1 ? `sequence number ${first.sequenceNumber}` : `sequence numbers ${first.sequenceNumber}-${last.sequenceNumber}`;
    const policy = this.#fn.metadata.retryOptions;
    let outcome = await runWithRetries(
      policy,
      {
        clock: this.#clock,
        signal: this.#abort.signal,
        onRetry: (retry, delay, e) =>
          this.#logger('warning', this.#category, `Partition ${p.id}, ${range} failed (${describeError(e)}); retry ${retry} in ${delay} ms.`),
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
      this.#logger('error', this.#category, `Partition ${p.id}, ${range} failed and no retry policy is set: ${describeError(outcome.error)}. Checkpointing past it and moving on.`);
    }
    this.#options.namespace.checkpoints.set(this.#key(p.id), {
      sequenceNumber: last.sequenceNumber,
      offset: last.offset,
      updatedAt: new Date(this.#clock.now()).toISOString(),
    });
    p.next = last.sequenceNumber + 1;
  }

  async #invoke(p: PartitionState, batch: readonly StoredEvent[], retryContext: RetryContext | undefined): Promise<void> {
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

  /** The host's binding data for an Event Hubs trigger, before the worker camel-cases it. */
  #triggerMetadata(partitionId: string, batch: readonly StoredEvent[]): Record<string, unknown> {
    const partitionContext = {
      FullyQualifiedNamespace: this.#options.namespace.fullyQualifiedNamespace,
      EventHubName: this.hubName,
      ConsumerGroup: this.consumerGroup,
      PartitionId: partitionId,
    };
    const system = (e: StoredEvent): Record<string, unknown> => ({
      'x-opt-sequence-number': e.sequenceNumber,
      'x-opt-offset': e.offset,
      'x-opt-enqueued-time': new Date(e.enqueuedTimeMs).toISOString(),
      ...(e.partitionKey !== undefined ? { 'x-opt-partition-key': e.partitionKey } : {}),
      SequenceNumber: e.sequenceNumber,
      Offset: e.offset,
      EnqueuedTimeUtc: new Date(e.enqueuedTimeMs).toISOString(),
      PartitionKey: e.partitionKey ?? null,
    });
    const raw: Record<string, unknown> =
      this.cardinality === 'many'
        ? {
            PartitionContext: partitionContext,
            PartitionKeyArray: batch.map((e) => e.partitionKey ?? null),
            OffsetArray: batch.map((e) => e.offset),
            SequenceNumberArray: batch.map((e) => e.sequenceNumber),
            EnqueuedTimeUtcArray: batch.map((e) => new Date(e.enqueuedTimeMs).toISOString()),
            PropertiesArray: batch.map((e) => ({ ...e.properties })),
            SystemPropertiesArray: batch.map(system),
          }
        : (() => {
            const e = batch[0] as StoredEvent;
            return {
              PartitionContext: partitionContext,
              PartitionKey: e.partitionKey ?? null,
              Offset: e.offset,
              SequenceNumber: e.sequenceNumber,
              EnqueuedTimeUtc: new Date(e.enqueuedTimeMs).toISOString(),
              Properties: { ...e.properties },
              SystemProperties: system(e),
            };
          })();
    return camelCaseKeys(raw) as Record<string, unknown>;
  }
}

/** Creates and starts a dispatcher for every `eventHubTrigger` function given. */
export function startEventHubTriggers(functions: readonly RegisteredFunction[], options: EventHubTriggerOptions): EventHubTriggerDispatcher[] {
  const dispatchers = functions
    .filter((f) => f.trigger.type.toLowerCase() === 'eventhubtrigger')
    .map((f) => new EventHubTriggerDispatcher(f, options));
  for (const d of dispatchers) d.start();
  return dispatchers;
}
