/**
 * A circuit breaker shared by every invocation of an instance. After `failureThreshold`
 * consecutive transient failures it opens: calls fail fast with BreakerOpenError (so the
 * function's retry policy backs off instead of hammering a sick dependency). After `openMs` it
 * half-opens and lets one trial call through; success closes it, failure opens it again.
 */
import type { BreakerSettings } from '../config';
import { isTransient } from './transient';

export type BreakerState = 'closed' | 'open' | 'halfOpen';

export class BreakerOpenError extends Error {
  readonly transient = true;
  constructor(
    readonly breaker: string,
    readonly retryInMs: number,
  ) {
    super(`circuit "${breaker}" is open; retry in ${retryInMs} ms`);
    this.name = 'BreakerOpenError';
  }
}

export interface BreakerEvents {
  onStateChange?(from: BreakerState, to: BreakerState): void;
}

export class CircuitBreaker {
  private state: BreakerState = 'closed';
  private consecutiveFailures = 0;
  private openedAt = 0;
  private trialInFlight = false;

  constructor(
    readonly name: string,
    private readonly settings: BreakerSettings,
    private readonly now: () => number = Date.now,
    private readonly events: BreakerEvents = {},
  ) {}

  get current(): BreakerState {
    if (this.state === 'open' && this.now() - this.openedAt >= this.settings.openMs) return 'halfOpen';
    return this.state;
  }

  /** Not an async function on purpose: it sits on ingestion's hot path, twice per drone per batch. */
  execute<T>(call: () => Promise<T>): Promise<T> {
    let pending: Promise<T>;
    try {
      this.admit();
      pending = call();
    } catch (e) {
      if (!(e instanceof BreakerOpenError)) this.onFailure(e);
      return Promise.reject(e);
    }
    return pending.then(
      (result) => {
        this.onSuccess();
        return result;
      },
      (e: unknown) => {
        this.onFailure(e);
        throw e;
      },
    );
  }

  private admit(): void {
    if (this.state === 'open') {
      const waited = this.now() - this.openedAt;
      if (waited < this.settings.openMs) throw new BreakerOpenError(this.name, this.settings.openMs - waited);
      this.transition('halfOpen');
    }
    if (this.state === 'halfOpen') {
      // One trial at a time: the others keep failing fast until it has answered.
      if (this.trialInFlight) throw new BreakerOpenError(this.name, this.settings.openMs);
      this.trialInFlight = true;
    }
  }

  private onSuccess(): void {
    this.trialInFlight = false;
    this.consecutiveFailures = 0;
    if (this.state !== 'closed') this.transition('closed');
  }

  private onFailure(e: unknown): void {
    this.trialInFlight = false;
    if (!isTransient(e)) {
      // A non-transient failure says nothing about the dependency's health.
      if (this.state === 'halfOpen') this.transition('closed');
      return;
    }
    this.consecutiveFailures += 1;
    if (this.state === 'halfOpen' || this.consecutiveFailures >= this.settings.failureThreshold) {
      this.openedAt = this.now();
      this.transition('open');
    }
  }

  private transition(to: BreakerState): void {
    const from = this.state;
    if (from === to) return;
    this.state = to;
    if (to === 'closed') this.consecutiveFailures = 0;
    this.events.onStateChange?.(from, to);
  }
}
