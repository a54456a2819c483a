/**
 * Per-test-file access to the shared stand-ins: an environment pointing the app at them, with
 * a database of the file's own so files running in parallel never see each other's data.
 */
import type { Container, CosmosClient } from '@azure/cosmos';
import { BlobServiceClient } from '@azure/storage-blob';
import { Composition, cosmosClientFrom, resetComposition } from '../../functions/composition';
import { parseConfig } from '../../functions/config';
import type { AppConfig } from '../../functions/config';
import { COSMOS_CONTAINERS } from '../../functions/resources';
import { provisionBlobs, provisionCosmos } from '../../tools/local/fabrikam';

function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the tests through vitest so the global setup starts the stand-ins.`);
  return v;
}

export interface TestEnvironment {
  readonly env: Record<string, string>;
  readonly composition: Composition;
  readonly cosmos: CosmosClient;
  readonly blobs: BlobServiceClient;
  readonly databaseId: string;
}

/**
 * Points the app's composition at the stand-ins with a fresh database named after `label`,
 * creates what infrastructure would, and installs it as the instance's composition.
 */
export async function useEmulators<C extends Composition = Composition>(
  label: string,
  overrides: Record<string, string> = {},
  make: (config: AppConfig) => C = (config) => new Composition(config) as C,
): Promise<TestEnvironment & { readonly composition: C }> {
  const databaseId = `t-${label}-${process.pid}-${Date.now().toString(36)}`.replace(/[^A-Za-z0-9-]/g, '-');
  const env: Record<string, string> = {
    CosmosConnection__accountEndpoint: need('TEST_COSMOS_ENDPOINT'),
    CosmosConnection__accountKey: need('TEST_COSMOS_KEY'),
    CosmosDatabaseName: databaseId,
    DeadLetterStorage: need('TEST_AZURITE_CONNECTION_STRING'),
    // Nothing listens here: tests that publish give the composition a recording publisher.
    LocalEventHubsEndpoint: 'http://127.0.0.1:9',
    ...overrides,
  };
  Object.assign(process.env, env);
  const composition = make(parseConfig(process.env));
  resetComposition(composition);
  const cosmos = cosmosClientFrom(
    { endpoint: need('TEST_COSMOS_ENDPOINT'), emulatorKey: need('TEST_COSMOS_KEY'), database: databaseId },
    () => {
      throw new Error('no credential for the emulator');
    },
  );
  const blobs = BlobServiceClient.fromConnectionString(need('TEST_AZURITE_CONNECTION_STRING'));
  // Provision through a direct client: a fault-injecting endpoint in `overrides` must not get in the way.
  await provisionCosmos(
    cosmosClientFrom(
      { endpoint: need('TEST_COSMOS_ENDPOINT'), emulatorKey: need('TEST_COSMOS_KEY'), database: databaseId },
      () => {
        throw new Error('no credential for the emulator');
      },
    ),
    databaseId,
  );
  await provisionBlobs(blobs);
  return { env, composition, cosmos, blobs, databaseId };
}

export type Containers = { readonly [K in keyof typeof COSMOS_CONTAINERS]: Container };

/** `useEmulators(label)`, then the file's database's containers, by their key in COSMOS_CONTAINERS. */
export async function useContainers(label: string): Promise<Containers> {
  const env = await useEmulators(label);
  const db = env.cosmos.database(env.databaseId);
  return Object.fromEntries(
    Object.entries(COSMOS_CONTAINERS).map(([key, decl]) => [key, db.container(decl.name)]),
  ) as unknown as Containers;
}
