/**
 * A lake stand-in per test file: its own temp directory and free port, Data Lake clients built
 * the way the app builds them (shared key with the public dev key over an IP-style URL), and a
 * stop that always ends the server and removes the directory.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DataLakeServiceClient, StorageSharedKeyCredential } from '@azure/storage-file-datalake';
import { startLakeServer } from '../../../packages/functions-local/src/lake/server';
import type { LakeServerHandle } from '../../../packages/functions-local/src/lake/server';
import { AZURITE_ACCOUNT, AZURITE_KEY, freePort } from '../../../packages/functions-local/src/host/standins';

export interface TempLake {
  readonly root: string;
  server: LakeServerHandle;
  service: DataLakeServiceClient;
  /** Stops the server and starts a new one on the same directory (a new port). */
  restart(): Promise<void>;
  dispose(): Promise<void>;
}

function serviceFor(server: LakeServerHandle): DataLakeServiceClient {
  // One try: a stand-in that answers 5xx is a bug to see at once, not a thing to retry.
  return new DataLakeServiceClient(server.url, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY), {
    retryOptions: { maxTries: 1 },
  });
}

export async function startTempLake(label: string): Promise<TempLake> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), `lake-${label}-`));
  const start = async (): Promise<LakeServerHandle> =>
    startLakeServer({ root, port: await freePort(), account: AZURITE_ACCOUNT });
  const server = await start();
  const lake: TempLake = {
    root,
    server,
    service: serviceFor(server),
    async restart() {
      await lake.server.stop();
      lake.server = await start();
      lake.service = serviceFor(lake.server);
    },
    async dispose() {
      await lake.server.stop();
      await fs.rm(root, { recursive: true, force: true });
    },
  };
  return lake;
}
