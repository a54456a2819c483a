/**
 * The saga port (`Sagas` in domain/delivery/ports.ts) on the Durable Functions client: start a
 * delivery's saga exactly once, read its status and progress, and signal it. A start that finds
 * the instance already there (HTTP 409 from the extension, which host.json's
 * `overridableExistingInstanceStates: NonRunningStates` guarantees for running instances) is
 * reported as such, not as an error.
 */
import type { DurableClient } from 'durable-functions';
import type { SagaProgress } from '../../domain/delivery/saga';
import type { SagaQuery, Sagas, SagaStatus } from '../../domain/delivery/ports';
import { RUNTIME_STATUSES } from '../../domain/delivery/supervisor';
import type { RuntimeStatus } from '../../domain/delivery/supervisor';

function toStatus(s: {
  instanceId?: string;
  name?: string;
  runtimeStatus?: unknown;
  createdTime?: Date | string;
  lastUpdatedTime?: Date | string;
  customStatus?: unknown;
}): SagaStatus {
  const rs = String(s.runtimeStatus ?? 'Unknown');
  const progress = s.customStatus && typeof s.customStatus === 'object' ? (s.customStatus as SagaProgress) : undefined;
  return {
    instanceId: s.instanceId ?? '',
    name: s.name ?? '',
    runtimeStatus: (RUNTIME_STATUSES as readonly string[]).includes(rs) ? (rs as RuntimeStatus) : 'Unknown',
    createdAt: new Date(s.createdTime ?? 0),
    lastUpdatedAt: new Date(s.lastUpdatedTime ?? 0),
    ...(progress ? { progress } : {}),
  };
}

export class DurableSagas implements Sagas {
  constructor(private readonly client: DurableClient) {}

  async status(instanceId: string): Promise<SagaStatus | undefined> {
    try {
      return toStatus(await this.client.getStatus(instanceId, { showInput: false }));
    } catch (e) {
      if (/HTTP 404/.test((e as Error).message ?? '')) return undefined;
      throw e;
    }
  }

  async start(orchestration: string, instanceId: string, input: unknown): Promise<'started' | 'exists'> {
    try {
      await this.client.startNew(orchestration, { instanceId, input });
      return 'started';
    } catch (e) {
      if (/status code: 409|already exists/i.test((e as Error).message ?? '')) return 'exists';
      throw e;
    }
  }

  async signal(instanceId: string, event: string, data: unknown): Promise<'delivered' | 'gone'> {
    try {
      await this.client.raiseEvent(instanceId, event, data);
      return 'delivered';
    } catch (e) {
      if (/No instance with ID/i.test((e as Error).message ?? '')) return 'gone';
      throw e;
    }
  }

  async list(query: SagaQuery): Promise<SagaStatus[]> {
    const found = await this.client.getStatusBy({
      runtimeStatus: query.runtimeStatus as never[],
      ...(query.createdFrom ? { createdTimeFrom: query.createdFrom } : {}),
      ...(query.createdTo ? { createdTimeTo: query.createdTo } : {}),
    });
    return found.map(toStatus);
  }

  async resume(instanceId: string, reason: string): Promise<void> {
    await this.client.resume(instanceId, reason);
  }
}
