/**
 * HubPositions: each consumer's position against each partition's last enqueued event.
 *
 * Locally the hubs and their checkpoints live in the local runtime, which reports both at
 * `GET /local/status` on the endpoint the app already publishes through; a consumer's
 * checkpoint there is the event before the next one it will be handed.
 *
 * In Azure the two numbers live in different places: partition properties come from the Event
 * Hubs SDK (`getPartitionProperties().lastEnqueuedSequenceNumber`) and checkpoints from the
 * Functions host's blobs in `AzureWebJobsStorage`, a storage account the app is not granted
 * data access to. Rather than guess, the report says so; Azure Monitor's Event Hubs metrics
 * and the Functions scale controller's lag are where an operator reads it there.
 */
import type { ConsumerLag, HubLagReport, HubPositions } from '../../domain/ops/ports';

interface LocalStatus {
  readonly hubs: readonly {
    readonly name: string;
    readonly partitions: readonly { readonly id: string; readonly lastSequenceNumber: number }[];
    readonly consumers: readonly {
      readonly function: string;
      readonly consumerGroup: string;
      readonly next: Readonly<Record<string, number>>;
    }[];
  }[];
}

export class LocalRuntimeHubPositions implements HubPositions {
  constructor(private readonly baseUrl: string) {}

  async read(): Promise<HubLagReport> {
    let res: Response;
    try {
      res = await fetch(new URL('/local/status', this.baseUrl), { signal: AbortSignal.timeout(5000) });
    } catch (e) {
      return {
        available: false,
        reason: `The local runtime's status endpoint did not answer (${(e as Error).message}).`,
      };
    }
    if (!res.ok) return { available: false, reason: `The local runtime's status endpoint answered ${res.status}.` };
    const status = (await res.json()) as LocalStatus;
    const consumers: ConsumerLag[] = [];
    for (const hub of status.hubs) {
      for (const c of hub.consumers) {
        consumers.push({
          hub: hub.name,
          consumerGroup: c.consumerGroup,
          partitions: hub.partitions.map((p) => {
            const next = c.next[p.id] ?? 0;
            return {
              partitionId: p.id,
              lastEnqueuedSequenceNumber: p.lastSequenceNumber,
              checkpointSequenceNumber: next > 0 ? next - 1 : undefined,
            };
          }),
        });
      }
    }
    return { available: true, consumers };
  }
}

export class UnavailableHubPositions implements HubPositions {
  constructor(private readonly reason: string) {}

  async read(): Promise<HubLagReport> {
    return { available: false, reason: this.reason };
  }
}

export const AZURE_HUB_LAG_UNAVAILABLE =
  "Checkpoints are the Functions host's blobs in AzureWebJobsStorage, which this app has no data role on; read consumer lag from Azure Monitor (Event Hubs metrics) instead.";
