/**
 * `GET /local/status`: what the hubs hold and how far each consumer and the engine got.
 */
import type { DurableEngine } from '../durable';
import type { EventHubNamespace, EventHubTriggerDispatcher } from '../eventhubs';
import type { LocalRoute } from '../http/host';

/** `GET /local/status`: what the hubs hold and how far each consumer and Capture got. */
export function statusRoute(
  namespace: EventHubNamespace,
  dispatchers: () => readonly EventHubTriggerDispatcher[],
  engine: () => DurableEngine | undefined,
): LocalRoute {
  return {
    methods: ['GET'],
    path: '/local/status',
    async handle() {
      const hubs = namespace.hubs.map((hub) => ({
        name: hub.name,
        partitions: hub.partitionIds.map((id) => ({ id, lastSequenceNumber: hub.lastSequenceNumber(id) })),
        consumers: dispatchers()
          .filter((d) => d.hubName === hub.name)
          .map((d) => ({
            function: d.functionName,
            consumerGroup: d.consumerGroup,
            next: Object.fromEntries(hub.partitionIds.map((id) => [id, d.position(id)])),
          })),
      }));
      const instances = (await engine()?.listInstances({})) ?? [];
      const byStatus: Record<string, number> = {};
      for (const i of instances) byStatus[i.runtimeStatus] = (byStatus[i.runtimeStatus] ?? 0) + 1;
      return {
        status: 200,
        headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
        body: JSON.stringify({ hubs, orchestrations: byStatus }),
      };
    },
  };
}
