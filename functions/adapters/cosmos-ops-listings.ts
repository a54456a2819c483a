/**
 * The operations console's list reads on Cosmos DB: every drone document (`drones`) and every
 * status view (`deliveryStatus`), optionally of one stage. Cross-partition queries, bounded by
 * a limit and without ORDER BY (the console sorts what it gets; a fleet and its open
 * deliveries are small, and the stand-in does not parse ORDER BY with OFFSET/LIMIT).
 */
import type { Container, SqlQuerySpec } from '@azure/cosmos';
import type { DeliveryStage, DeliveryStatusView } from '../../domain/delivery/status';
import type { FleetListing, StatusViewListing } from '../../domain/ops/ports';
import type { DroneState } from '../../domain/telemetry/drone-state';
import { stateFromDocument } from './cosmos-drone-store';
import type { DroneDocument } from './cosmos-drone-store';
import { viewFromDocument } from './cosmos-status-view-store';

async function readUpTo<T>(container: Container, query: SqlQuerySpec, limit: number): Promise<T[]> {
  const out: T[] = [];
  const iterator = container.items.query<T>(query, { maxItemCount: Math.min(limit, 1000) });
  while (out.length < limit && iterator.hasMoreResults()) {
    const page = await iterator.fetchNext();
    for (const item of page.resources ?? []) if (out.length < limit) out.push(item);
  }
  return out;
}

export class CosmosFleetListing implements FleetListing {
  constructor(private readonly container: Container) {}

  async list(limit: number): Promise<DroneState[]> {
    const docs = await readUpTo<DroneDocument>(this.container, { query: 'SELECT * FROM c' }, limit);
    return docs.map(stateFromDocument);
  }
}

export class CosmosStatusViewListing implements StatusViewListing {
  constructor(private readonly container: Container) {}

  async list(filter: { stage?: DeliveryStage }, limit: number): Promise<DeliveryStatusView[]> {
    const query: SqlQuerySpec = filter.stage
      ? { query: 'SELECT * FROM c WHERE c.stage = @stage', parameters: [{ name: '@stage', value: filter.stage }] }
      : { query: 'SELECT * FROM c' };
    const docs = await readUpTo<Record<string, unknown>>(this.container, query, limit);
    return docs.map(viewFromDocument);
  }
}
