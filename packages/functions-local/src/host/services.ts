/**
 * Start-up and shutdown as one list: each service the runtime starts is added under its name once
 * it is up, and stopping goes through the list in reverse. So whatever was started before a
 * failure is stopped, and nothing depends on a service that is already gone: the HTTP intake,
 * opened last, closes first; the data directory's lock, taken first, goes last.
 */
import { describeError } from './invocation';
import type { LocalLogger } from './invocation';

export interface RunningService {
  readonly name: string;
  stop(): Promise<void> | void;
}

export class ServiceList {
  readonly #running: RunningService[] = [];
  readonly #logger: LocalLogger;

  constructor(logger: LocalLogger) {
    this.#logger = logger;
  }

  /** Notes a service that has started; it is stopped before every service added earlier. */
  add(name: string, stop: () => Promise<void> | void): void {
    this.#running.push({ name, stop });
  }

  get names(): readonly string[] {
    return this.#running.map((s) => s.name);
  }

  /** Stops every service, newest first; a failing stop is logged and the rest still stop. */
  async stopAll(): Promise<void> {
    for (const s of this.#running.splice(0).reverse()) {
      try {
        await s.stop();
      } catch (e) {
        this.#logger('error', 'Runtime', `Stopping ${s.name} failed: ${describeError(e)}`);
      }
    }
  }
}
