/**
 * Starts the stand-ins once for the whole run (Azurite in memory, the Cosmos DB server over
 * plain HTTP) on free loopback ports and hands their endpoints to the test workers through
 * the environment. Teardown always stops both; Azurite is force-killed if it lingers.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { startAzurite, startCosmos } from '../../tools/local/standins';
import type { AzuriteHandle, CosmosHandle } from '../../tools/local/standins';

/** Runs that include end-to-end or benchmark files need dist/: build it once, before any worker starts. */
function buildIfNeeded(): void {
  const filters = process.argv.slice(2).filter((a) => !a.startsWith('-') && a !== 'run' && !a.endsWith('vitest.mjs'));
  if (filters.length > 0 && !filters.some((f) => /e2e|bench/.test(f))) return;
  const root = path.resolve(__dirname, '..', '..');
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) console.warn(`tsc reported problems (the build output is used anyway):\n${result.stdout}${result.stderr}`);
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
