/**
 * One answer of a query, shared by every caller on the instance for a while: the available fleet
 * and the drones held by reservations are read this way, so a burst of assignments costs one
 * query of each, not one per assignment. Calls made while a query is in flight share it; a
 * failed query is not kept; `fresh` reads again whatever is kept (and keeps the new answer).
 */
export interface SnapshotOptions {
  /** How long one answer serves (0: every call queries). */
  readonly snapshotMs?: number;
  /** The clock the answer's age is judged by (milliseconds). */
  readonly now?: () => number;
}

export interface SnapshotAnswer<T> {
  readonly value: T;
  /** Whether an earlier call's query served this one. */
  readonly shared: boolean;
}

export class SharedSnapshot<T> {
  readonly #snapshotMs: number;
  readonly #now: () => number;
  #kept: { readonly at: number; readonly value: Promise<T> } | undefined;

  constructor(
    private readonly query: () => Promise<T>,
    options: SnapshotOptions = {},
  ) {
    this.#snapshotMs = options.snapshotMs ?? 0;
    this.#now = options.now ?? Date.now;
  }

  async get(options: { readonly fresh?: boolean } = {}): Promise<SnapshotAnswer<T>> {
    if (this.#snapshotMs <= 0) return { value: await this.query(), shared: false };
    const now = this.#now();
    const kept = this.#kept;
    // A clock that went back (now < at) does not make an old answer young.
    if (!options.fresh && kept && now - kept.at >= 0 && now - kept.at < this.#snapshotMs)
      return { value: await kept.value, shared: true };
    const value = this.query();
    const snapshot = { at: now, value };
    this.#kept = snapshot;
    value.catch(() => {
      if (this.#kept === snapshot) this.#kept = undefined;
    });
    return { value: await value, shared: false };
  }
}
