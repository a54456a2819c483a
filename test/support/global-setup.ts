/**
 * Starts the stand-ins once for the whole run (Azurite in memory, the Cosmos DB server over
 * plain HTTP) on free loopback ports and hands their endpoints to the test workers through
 * the environment. Teardown always stops both; Azurite is force-killed if it lingers.
 */
import { startAzurite, startCosmos } from '../../tools/local/standins';
import type { AzuriteHandle, CosmosHandle } from '../../tools/local/standins';

export default async function setup(): Promise<() => Promise<void>> {
  let azurite: AzuriteHandle | undefined;
  let cosmos: CosmosHandle | undefined;
  const stop = async (): Promise<void> => {
    await Promise.allSettled([azurite?.stop(), cosmos?.stop()]);
  };
  try {
    [azurite, cosmos] = await Promise.all([startAzurite(), startCosmos()]);
  } catch (e) {
    await stop();
    throw e;
  }
  process.env.TEST_AZURITE_BLOB_ENDPOINT = azurite.blobEndpoint;
  process.env.TEST_AZURITE_CONNECTION_STRING = azurite.connectionString;
  process.env.TEST_COSMOS_ENDPOINT = cosmos.endpoint;
  process.env.TEST_COSMOS_KEY = cosmos.key;
  const onSignal = (): void => {
    void stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return async () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await stop();
  };
}
