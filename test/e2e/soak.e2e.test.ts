/**
 * The fleet simulator as a soak test, end to end on a runtime of its own: a small run with
 * cancels at random moments, milestone reports from drones not assigned to the delivery,
 * duplicates, reordering, poison and idle-drone heartbeats, and then the simulator's own
 * invariant check (final stages, nothing Failed after Delivered, gapless histories, milestones
 * only from the assigned drone, every drone free again), read from its --summary-json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOnce, killAll, ROOT, startRuntime } from './support/runtime-process';
import type { RuntimeProcess } from './support/runtime-process';

interface Summary {
  readonly deliveries: {
    readonly requested: number;
    readonly delivered: number;
    readonly failed: number;
    readonly cancelled: number;
    readonly rejected: number;
    readonly timedOut: number;
  };
  readonly telemetry: { readonly heartbeats: number; readonly wrongDrone: number; readonly poison: number };
  readonly cancels: { readonly sent: number; readonly answers: Record<string, number> };
  readonly invariants: readonly {
    readonly name: string;
    readonly ok: boolean;
    readonly violations: readonly string[];
  }[];
  readonly stuck: readonly unknown[];
  readonly ok: boolean;
}

let dir: string;
let rt: RuntimeProcess;

beforeAll(async () => {
  buildOnce();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-soak-'));
  rt = await startRuntime(path.join(dir, 'data'), ['--quiet']);
}, 90_000);

afterAll(async () => {
  await killAll();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

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

describe('npm run simulate as a soak test', () => {
  it('cancels, wrong-drone milestones and heartbeats: every invariant of the summary holds and it exits 0', async () => {
    const summaryFile = path.join(dir, 'summary.json');
    const { code, output } = await simulate([
      '--url',
      rt.url,
      '--data-dir',
      path.join(dir, 'data'),
      '--drones',
      '4',
      '--deliveries',
      '8',
      '--rate',
      '2',
      '--cancel',
      '0.6',
      '--wrong-drone',
      '0.6',
      '--duplicates',
      '0.2',
      '--reorder',
      '0.2',
      '--poison',
      '0.05',
      '--speedup',
      '300',
      '--interval',
      '100',
      '--heartbeat',
      '2',
      '--timeout',
      '150',
      '--seed',
      '2026',
      '--summary-json',
      summaryFile,
    ]);
    const context = `${output.slice(-3000)}\n--- runtime ---\n${rt.output().slice(-2000)}`;
    const summary = JSON.parse(fs.readFileSync(summaryFile, 'utf8')) as Summary;

    // What was injected reached the pipeline.
    expect(summary.cancels.sent, context).toBeGreaterThan(0);
    expect(
      Object.keys(summary.cancels.answers).every((s) => s === '202' || s === '409'),
      context,
    ).toBe(true);
    expect(summary.telemetry.wrongDrone, context).toBeGreaterThan(0);
    expect(summary.telemetry.heartbeats, context).toBeGreaterThan(0);

    // The invariant check, as the summary reports it.
    expect(summary.invariants.map((i) => i.name)).toEqual([
      'every delivery ends Delivered, Cancelled or Failed',
      'none ends Failed after its drone reported Delivered',
      'every history is gapless (1..n) and holds its final event',
      'milestones come only from the assigned drone',
      'every drone is free again (no delivery, no reservation)',
      'every request is accepted',
    ]);
    for (const inv of summary.invariants)
      expect({ name: inv.name, violations: inv.violations }, context).toEqual({ name: inv.name, violations: [] });
    expect(summary.stuck, context).toEqual([]);
    const d = summary.deliveries;
    expect(d.delivered + d.cancelled + d.failed, context).toBe(d.requested);
    expect(d.timedOut + d.rejected).toBe(0);
    expect(output).toMatch(/Invariants\n(\s+PASS {2}.+\n){6}/);
    expect(output).toContain('All invariants hold.');
    expect(code, context).toBe(0);
  }, 240_000);
});
