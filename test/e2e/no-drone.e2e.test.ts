/**
 * End to end, on a runtime of its own with a one-minute assignment SLA: a delivery no drone can
 * reach keeps looking for one until the SLA runs out, then fails and compensates its package.
 * Meanwhile the fleet simulator flies a few deliveries on the same runtime, as a user would run it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { principalHeaders } from '../../functions/http/identity';
import { buildOnce, killAll, ROOT, startRuntime } from './support/runtime-process';
import type { RuntimeProcess } from './support/runtime-process';

const ALICE = principalHeaders({ id: 'alice', roles: [] });
let dataDir: string;
let rt: RuntimeProcess;

beforeAll(async () => {
  buildOnce();
  dataDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-nodrone-')), 'data');
  rt = await startRuntime(dataDir, ['--quiet'], { AssignmentSlaMinutes: '1', AssignmentRetrySeconds: '5' });
}, 90_000);

afterAll(async () => {
  await killAll();
  if (dataDir) fs.rmSync(path.dirname(dataDir), { recursive: true, force: true });
});

/** Runs `npm run simulate`'s program to its end; resolves its exit code and output. */
function simulate(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'dist-tools', 'tools', 'simulate.js'), ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe('npm start: no drone in reach', () => {
  it.concurrent(
    'the fleet simulator completes its deliveries, dead-letters its poison and prints a summary',
    async () => {
      const { code, output } = await simulate([
        '--url',
        rt.url,
        '--data-dir',
        dataDir,
        '--drones',
        '3',
        '--deliveries',
        '3',
        '--rate',
        '3',
        '--poison',
        '0.2',
        '--duplicates',
        '0.2',
        '--seed',
        '7',
        '--timeout',
        '90',
      ]);
      expect(output).toContain('Summary');
      expect(output).toMatch(/deliveries: 3 requested, 3 completed, 0 failed/);
      const poison = Number(/(\d+) poison\b/.exec(output)?.[1] ?? NaN);
      expect(output).toContain(`${poison} new (${poison} poison sent)`);
      expect(code, output.slice(-2000)).toBe(0);
    },
    120_000,
  );

  it.concurrent(
    'fails the delivery with NoDroneAvailable once the assignment SLA has passed, and cancels its package',
    async () => {
      const post = await fetch(`${rt.url}/api/deliveries`, {
        method: 'POST',
        headers: { ...ALICE, 'content-type': 'application/json' },
        body: JSON.stringify({
          deliveryId: 'e2e-nodrone',
          pickup: { lat: -33.92, lon: 18.42 },
          dropoff: { lat: -33.93, lon: 18.43 },
          package: { size: 'small', weightKg: 1 },
        }),
      });
      expect(post.status).toBe(202);
      let view: { stage: string; failureReason?: string } | undefined;
      const deadline = Date.now() + 100_000;
      while (Date.now() < deadline) {
        const r = await fetch(`${rt.url}/api/deliveries/e2e-nodrone`, { headers: ALICE });
        if (r.status === 200) {
          view = (await r.json()) as { stage: string; failureReason?: string };
          if (view.stage === 'Failed') break;
        }
        await new Promise((res) => setTimeout(res, 500));
      }
      expect(view?.stage, rt.output().slice(-2000)).toBe('Failed');
      expect(view?.failureReason).toContain('no drone became available');
      const history = (await (
        await fetch(`${rt.url}/api/deliveries/e2e-nodrone/history`, { headers: ALICE })
      ).json()) as { events: { type: string; occurredAt: string; data: { code?: string } }[] };
      expect(history.events.map((e) => e.type)).toEqual([
        'DeliveryRequested',
        'PackageCreated',
        'PackageCancelled',
        'DeliveryFailed',
      ]);
      expect(history.events.at(-1)?.data.code).toBe('NoDroneAvailable');
      // It kept trying for the SLA (one minute, less the last retry interval) before giving up.
      const waitedMs =
        Date.parse(history.events.at(-1)?.occurredAt ?? '') - Date.parse(history.events[0]?.occurredAt ?? '');
      expect(waitedMs).toBeGreaterThanOrEqual(50_000);
    },
    120_000,
  );
});
