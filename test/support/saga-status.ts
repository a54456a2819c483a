/**
 * A saga as the Durable client reports it, for the supervisor's tests: created some minutes
 * before `now`, and with progress as the delivery saga publishes it when `progress` is given.
 */
import type { SagaProgress } from '../../domain/delivery/saga';
import type { SagaQuery, SagaStatus } from '../../domain/delivery/ports';
import { ORCHESTRATIONS } from '../../functions/names';

const MIN = 60_000;

export interface SagaStatusOptions {
  readonly now: Date;
  /** How long after its creation a saga is due (its `completeBy`). */
  readonly dueAfterMs: number;
}

export function sagaStatusFor(options: SagaStatusOptions) {
  return (
    instanceId: string,
    runtimeStatus: SagaStatus['runtimeStatus'],
    createdMinutesAgo: number,
    progress?: Partial<SagaProgress>,
    name: string = ORCHESTRATIONS.deliverySaga,
  ): SagaStatus => {
    const createdAt = new Date(options.now.getTime() - createdMinutesAgo * MIN);
    return {
      instanceId,
      name,
      runtimeStatus,
      createdAt,
      lastUpdatedAt: createdAt,
      ...(progress
        ? {
            progress: {
              stage: 'Scheduled',
              completeBy: new Date(createdAt.getTime() + options.dueAfterMs).toISOString(),
              finished: false,
              outbox: [],
              ...progress,
            } as SagaProgress,
          }
        : {}),
    };
  };
}

/** Whether the Durable client's listing for `q` includes `s`: its state, created within the bounds. */
export const matchesQuery = (s: SagaStatus, q: SagaQuery): boolean =>
  q.runtimeStatus.includes(s.runtimeStatus) &&
  (!q.createdFrom || s.createdAt >= q.createdFrom) &&
  (!q.createdTo || s.createdAt <= q.createdTo);
