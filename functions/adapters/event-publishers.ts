/**
 * Publishing events to a hub with a partition key: to Azure Event Hubs with the SDK and an Entra
 * identity, or to the local runtime over its publish endpoint (docs/contract.md §4). The app needs the
 * partition key (delivery events are keyed by delivery id), which the Node output binding cannot
 * set, so it publishes through this port; tools (dead-letter replay, simulator) use it too.
 */
import { EventHubProducerClient } from '@azure/event-hubs';
import { DefaultAzureCredential } from '@azure/identity';
import type { TokenCredential } from '@azure/identity';
import type { EventPublisher, OutgoingEvent } from '../../domain/shared/ports';

export class LocalRuntimePublisher implements EventPublisher {
  constructor(private readonly baseUrl: string) {}

  async publish(hub: string, events: readonly OutgoingEvent[]): Promise<void> {
    if (events.length === 0) return;
    const res = await fetch(`${this.baseUrl.replace(/\/$/, '')}/local/eventhubs/${encodeURIComponent(hub)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(events),
    });
    if (res.status !== 202) throw new Error(`publishing to ${hub} answered ${res.status}: ${await res.text()}`);
    const { accepted } = (await res.json()) as { accepted?: number };
    if (accepted !== events.length) throw new Error(`publishing to ${hub}: ${accepted} of ${events.length} accepted`);
  }

  async close(): Promise<void> {}
}

export class AzureEventHubsPublisher implements EventPublisher {
  private readonly producers = new Map<string, EventHubProducerClient>();

  constructor(
    private readonly fullyQualifiedNamespace: string,
    private readonly credential: TokenCredential = new DefaultAzureCredential(),
  ) {}

  private producer(hub: string): EventHubProducerClient {
    let p = this.producers.get(hub);
    if (!p) {
      p = new EventHubProducerClient(this.fullyQualifiedNamespace, hub, this.credential);
      this.producers.set(hub, p);
    }
    return p;
  }

  async publish(hub: string, events: readonly OutgoingEvent[]): Promise<void> {
    const byKey = new Map<string | undefined, OutgoingEvent[]>();
    for (const e of events) {
      const list = byKey.get(e.partitionKey) ?? [];
      list.push(e);
      byKey.set(e.partitionKey, list);
    }
    const producer = this.producer(hub);
    for (const [partitionKey, group] of byKey) {
      let batch = await producer.createBatch(partitionKey ? { partitionKey } : {});
      for (const e of group) {
        const data = { body: e.body, ...(e.properties ? { properties: e.properties } : {}) };
        if (!batch.tryAdd(data)) {
          await producer.sendBatch(batch);
          batch = await producer.createBatch(partitionKey ? { partitionKey } : {});
          if (!batch.tryAdd(data)) throw new Error('an event is larger than the maximum batch size');
        }
      }
      if (batch.count > 0) await producer.sendBatch(batch);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.producers.values()].map((p) => p.close()));
  }
}
