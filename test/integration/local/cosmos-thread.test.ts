/**
 * The Cosmos DB stand-in on its own worker thread (what `npm start` and the benchmarks run): the
 * package is compiled to JavaScript first, since a worker needs a JavaScript entry, then the
 * stand-in is started from that build. A client sees the same server and log as in-process: what
 * it wrote is back after a restart on the same directory, stopping ends the thread, and the
 * thread's CPU can be profiled from the caller.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CosmosClient } from '@azure/cosmos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ThreadedCosmosHandle } from '../../../packages/functions-local/src/cosmos/thread';
import { startCosmosThread as fromSources } from '../../../packages/functions-local/src/cosmos/thread';

const root = path.resolve(__dirname, '../../..');
// Inside node_modules, so the build resolves the package's dependencies as dist/ does.
const out = path.join(root, 'node_modules', '.cache', `cosmos-thread-test-${process.pid}`);
const dirs: string[] = [];
let built: typeof fromSources;

beforeAll(() => {
  execFileSync(process.execPath, [
    path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
    '-p',
    path.join(root, 'packages', 'functions-local', 'tsconfig.json'),
    '--outDir',
    out,
    '--declaration',
    'false',
    '--sourceMap',
    'false',
  ]);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  built = (require(path.join(out, 'cosmos', 'thread.js')) as { startCosmosThread: typeof fromSources })
    .startCosmosThread;
}, 120_000);

afterAll(() => {
  fs.rmSync(out, { recursive: true, force: true });
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const tempDir = (): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmos-thread-'));
  dirs.push(dir);
  return dir;
};

async function writeAndRead(h: ThreadedCosmosHandle, id: string, write: boolean): Promise<unknown> {
  const client = new CosmosClient({
    endpoint: h.endpoint,
    key: h.key,
    connectionPolicy: { enableEndpointDiscovery: false },
  });
  try {
    const { database } = await client.databases.createIfNotExists({ id: 'threaded' });
    const { container } = await database.containers.createIfNotExists({ id: 'c', partitionKey: { paths: ['/id'] } });
    if (write) await container.items.create({ id, note: 'written on the thread' });
    return (await container.item(id, id).read<{ note: string }>()).resource?.note;
  } finally {
    client.dispose();
  }
}

describe('the Cosmos DB stand-in on a worker thread', () => {
  it('runs on a thread from the built package, and keeps what was written across a restart', async () => {
    const dir = tempDir();
    const crashes: Error[] = [];
    const first = await built({ dir }, (e) => crashes.push(e));
    expect(first.runsOn).toBe('thread');
    expect(await writeAndRead(first, 'kept', true)).toBe('written on the thread');
    await first.stop();
    await expect(fetch(first.endpoint)).rejects.toThrow();

    const second = await built({ dir }, (e) => crashes.push(e));
    try {
      expect(second.replayed).toBeGreaterThan(0);
      expect(await writeAndRead(second, 'kept', false)).toBe('written on the thread');
    } finally {
      await second.stop();
    }
    expect(crashes).toEqual([]);
  }, 60_000);

  it("profiles the stand-in's own thread while it serves, for the benchmarks' CPU split", async () => {
    const h = await built({ dir: tempDir() });
    try {
      if (!h.profiler) throw new Error('a stand-in on a thread has a profiler');
      await h.profiler.start(100);
      for (let i = 0; i < 20; i++) await writeAndRead(h, `p-${i}`, true);
      const profile = (await h.profiler.stop()) as { nodes: { callFrame: { url: string } }[]; samples: number[] };
      expect(profile.samples.length).toBeGreaterThan(0);
      // The thread's profile holds the stand-in's code, not the client's.
      const urls = profile.nodes.map((n) => n.callFrame.url);
      expect(urls.some((u) => u.includes('cosmosdb-server'))).toBe(true);
      expect(urls.some((u) => u.includes('@azure/cosmos'))).toBe(false);
      // And it can be taken again.
      await h.profiler.start(100);
      expect(((await h.profiler.stop()) as { nodes: unknown[] }).nodes.length).toBeGreaterThan(0);
    } finally {
      await h.stop();
    }
  }, 60_000);

  it('passes on the reason a stand-in on a thread cannot start', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'cosmos.wal'), '{"not a log line\n');
    await expect(built({ dir })).rejects.toThrow(/could not restore/);
  }, 60_000);

  it('runs in-process when loaded from the TypeScript sources, where a worker has no entry', async () => {
    const h = await fromSources({ dir: tempDir() });
    try {
      expect(h.runsOn).toBe('in-process');
      expect(await writeAndRead(h, 'here', true)).toBe('written on the thread');
    } finally {
      await h.stop();
    }
  });
});
