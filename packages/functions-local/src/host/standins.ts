/**
 * Starts the local stand-ins for Azure services: Azurite (blob) as a child process and
 * `@vercel/cosmosdb-server` in-process over plain HTTP, both on loopback and free ports.
 * Shared by the test harness and the local runtime; every start returns a stop that always
 * ends the service (force-kill fallback for the child).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import type { Server } from 'node:http';
import { createHttpServer } from '@vercel/cosmosdb-server';
import { installLinearQueries } from '../cosmos/linear-queries';
import { installSharedShapes } from '../cosmos/shared-shapes';

/** Azurite's published development-account key (public, documented, emulator only). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
/** cosmosdb-server accepts any key; this one only has to be valid base64 for the client's signer. */
export const COSMOS_EMULATOR_KEY = Buffer.from('fabrikam-local-cosmos').toString('base64');

export interface Stoppable {
  stop(): Promise<void>;
}

export interface AzuriteHandle extends Stoppable {
  readonly blobEndpoint: string;
  readonly connectionString: string;
  readonly pid: number | undefined;
}

export interface CosmosHandle extends Stoppable {
  readonly endpoint: string;
  readonly key: string;
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, host: string, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && child.exitCode !== null)
      throw new Error(`process exited with code ${child.exitCode} before listening on ${port}`);
    const open = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, host);
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listened on ${host}:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function azuriteConnectionString(blobEndpoint: string): string {
  return `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};BlobEndpoint=${blobEndpoint};`;
}

/** Azurite's blob service; in memory unless a data directory is given. */
export async function startAzurite(opts: { port?: number; location?: string } = {}): Promise<AzuriteHandle> {
  const host = '127.0.0.1';
  const port = opts.port ?? (await freePort());
  const main = path.join(
    path.dirname(createRequire(__filename).resolve('azurite/package.json')),
    'dist',
    'src',
    'blob',
    'main.js',
  );
  const args = [
    main,
    '--blobHost',
    host,
    '--blobPort',
    String(port),
    '--skipApiVersionCheck',
    '--loose',
    '--silent',
    '--disableTelemetry',
  ];
  args.push(...(opts.location ? ['--location', opts.location] : ['--inMemoryPersistence']));
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  try {
    await waitForPort(port, host, 30_000, child);
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`Azurite did not start: ${(e as Error).message}\n${stderr}`);
  }
  const blobEndpoint = `http://${host}:${port}/${AZURITE_ACCOUNT}`;
  return {
    blobEndpoint,
    connectionString: azuriteConnectionString(blobEndpoint),
    pid: child.pid,
    stop: () => stopChild(child),
  };
}

export async function stopChild(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** The Cosmos DB stand-in, in this process, over plain HTTP on loopback. */
export async function startCosmos(opts: { port?: number } = {}): Promise<CosmosHandle> {
  const host = '127.0.0.1';
  installLinearQueries();
  installSharedShapes();
  const server: Server = createHttpServer();
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : 0);
    });
  });
  return {
    endpoint: `http://${host}:${port}`,
    key: COSMOS_EMULATOR_KEY,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
