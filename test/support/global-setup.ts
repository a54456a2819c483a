/**
 * Starts the stand-ins once for the whole run (Azurite in memory, the Cosmos DB server over
 * plain HTTP) on free loopback ports and hands their endpoints to the test workers through
 * the environment. Teardown always stops both; Azurite is force-killed if it lingers.
 */
import { startAzurite, startCosmos } from '../../packages/functions-local/src/host/standins';
import type { AzuriteHandle, CosmosHandle } from '../../packages/functions-local/src/host/standins';
import { buildAll } from './build';

/** Runs that include end-to-end or benchmark files need the build: once, before any worker starts. */
function buildIfNeeded(): void {
  const filters = process.argv.slice(2).filter((a) => !a.startsWith('-') && a !== 'run' && !a.endsWith('vitest.mjs'));
  if (filters.length > 0 && !filters.some((f) => /e2e|bench/.test(f))) return;
  buildAll();
  process.env.TEST_APP_BUILT = '1';
}

export default async function setup(): Promise<() => Promise<void>> {
  buildIfNeeded();
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
