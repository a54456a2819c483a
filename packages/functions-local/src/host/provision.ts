/**
 * Creates locally what infrastructure (Bicep) creates in Azure, from the app's declarations
 * (passed in by its launcher): the Cosmos database and containers, and the blob containers.
 * Idempotent: safe to run against resources that already exist.
 */
import type { CosmosClient } from '@azure/cosmos';
import type { BlobServiceClient } from '@azure/storage-blob';

export interface CosmosContainerSpec {
  readonly name: string;
  /** e.g. `/id`. */
  readonly partitionKey: string;
  readonly defaultTtl?: number;
}

export interface BlobContainerSpec {
  readonly name: string;
}

export async function provisionCosmos(
  client: CosmosClient,
  databaseId: string,
  containers: readonly CosmosContainerSpec[],
): Promise<void> {
  const { database } = await client.databases.createIfNotExists({ id: databaseId });
  for (const decl of containers) {
    await database.containers.createIfNotExists({
      id: decl.name,
      partitionKey: { paths: [decl.partitionKey] },
      ...(decl.defaultTtl !== undefined ? { defaultTtl: decl.defaultTtl } : {}),
    });
  }
}

export async function provisionBlobs(
  service: BlobServiceClient,
  containers: readonly BlobContainerSpec[],
): Promise<void> {
  for (const decl of containers) {
    await service.getContainerClient(decl.name).createIfNotExists();
  }
}
