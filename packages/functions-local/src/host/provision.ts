/**
 * Creates locally what infrastructure (Bicep) creates in Azure, from the one declaration in
 * functions/resources.ts: the Cosmos database and containers, and the blob containers.
 * Idempotent: safe to run against resources that already exist.
 */
import type { CosmosClient } from '@azure/cosmos';
import type { BlobServiceClient } from '@azure/storage-blob';
import { allBlobContainers, allCosmosContainers } from '../../functions/resources';

export async function provisionCosmos(client: CosmosClient, databaseId: string): Promise<void> {
  const { database } = await client.databases.createIfNotExists({ id: databaseId });
  for (const decl of allCosmosContainers()) {
    await database.containers.createIfNotExists({
      id: decl.name,
      partitionKey: { paths: [decl.partitionKey] },
      ...(decl.defaultTtl !== undefined ? { defaultTtl: decl.defaultTtl } : {}),
    });
  }
}

export async function provisionBlobs(service: BlobServiceClient): Promise<void> {
  for (const decl of allBlobContainers()) {
    await service.getContainerClient(decl.name).createIfNotExists();
  }
}
