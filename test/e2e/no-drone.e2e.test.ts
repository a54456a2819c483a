/**
 * End to end, on a runtime of its own with a one-minute assignment SLA: a delivery no drone can
 * reach keeps looking for one until the SLA runs out, then fails and compensates its package.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { principalHeaders } from '../../functions/http/identity';
import { buildOnce, killAll, startRuntime } from './support/runtime-process';
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

describe('npm start: no drone in reach', () => {
  it('fails the delivery with NoDroneAvailable once the assignment SLA has passed, and cancels its package', async () => {
    const post = await fetch(`${rt.url}/api/deliveries`, {
      method: 'POST',
      headers: { ...ALICE, 'content-type': 'application/json' },
      body: JSON.stringify({ deliveryId: 'e2e-nodrone', pickup: { lat: -33.92, lon: 18.42 }, dropoff: { lat: -33.93, lon: 18.43 }, package: { size: 'small', weightKg: 1 } }),
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
    const history = (await (await fetch(`${rt.url}/api/deliveries/e2e-nodrone/history`, { headers: ALICE })).json()) as { events: { type: string; occurredAt: string; data: { code?: string } }[] };
    expect(history.events.map((e) => e.type)).toEqual(['DeliveryRequested', 'PackageCreated', 'PackageCancelled', 'DeliveryFailed']);
    expect(history.events.at(-1)?.data.code).toBe('NoDroneAvailable');
    // It kept trying for the SLA (one minute, less the last retry interval) before giving up.
    const waitedMs = Date.parse(history.events.at(-1)?.occurredAt ?? '') - Date.parse(history.events[0]?.occurredAt ?? '');
    expect(waitedMs).toBeGreaterThanOrEqual(50_000);
  }, 120_000);
});
