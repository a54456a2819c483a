/**
 * Smoke check that `npm run bench` still works: builds once (as the end-to-end suite does), runs
 * the quick bench as a child process with its JSON written to a temp file, and checks the exit
 * code, that every row's metric is printed, and that every row carries finite numbers. No timing
 * is asserted: the quick run's figures are one short round on a shared machine.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOnce, ROOT } from '../e2e/support/runtime-process';

interface ResultRow {
  readonly metric: unknown;
  readonly ours: unknown;
  readonly baseline: unknown;
  readonly ratio: unknown;
  readonly target: unknown;
  readonly unit: unknown;
}

interface Results {
  readonly header?: {
    readonly date?: unknown;
    readonly node?: unknown;
    readonly mode?: unknown;
    readonly machine?: { readonly cpus?: unknown };
  };
  readonly rows?: readonly ResultRow[];
}

/** The rows the issue asks for, by the start of their metric name. */
const EXPECTED = [
  'ingest handler CPU, batch 100',
  'ingest handler CPU, batch 1000',
  'Cosmos requests per batch',
  'request units per event',
  'validator:',
  'status inquiry: HTTP GET',
  'status inquiry: p50',
  'status inquiry: p99',
  'saga: sagas/s',
  'saga: the orchestration alone',
  "saga: the agents' share",
  'saga: durable actions per delivery (happy)',
  'saga: durable actions per delivery (compensation)',
  'projector:',
  'capture: Avro encode',
  'capture: bytes per event',
  'load levelling: burst publish rate',
  'load levelling: drain rate',
  'load levelling: peak lag',
  'load levelling: drain time',
  'scale: ingestion drain at',
  'scale: projector events/s at 100 vs 10',
  'scale: supervisor run at',
  'supervisor run vs listing',
  'scale: saga throughput at',
];

let dir: string;
let run: { code: number | null; out: string };
let results: Results;

beforeAll(async () => {
  buildOnce();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-smoke-'));
  const outFile = path.join(dir, 'results.json');
  const child = spawn(
    process.execPath,
    ['--enable-source-maps', path.join(ROOT, 'dist-tools', 'tools', 'bench', 'index.js'), '--quick', '--out', outFile],
    {
      cwd: dir,
      env: { ...process.env, PORT: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  run = { code, out };
  results = fs.existsSync(outFile) ? (JSON.parse(fs.readFileSync(outFile, 'utf8')) as Results) : {};
}, 240_000);

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('npm run bench -- --quick', () => {
  it('exits 0', () => {
    expect(run.code, run.out.slice(-4000)).toBe(0);
  });

  it('prints every row of the table', () => {
    for (const metric of EXPECTED) expect(run.out, `missing "${metric}"`).toContain(metric);
    for (const row of results.rows ?? []) expect(run.out).toContain(String(row.metric));
  });

  it('writes every row with finite numbers and a header', () => {
    const rows = results.rows ?? [];
    for (const metric of EXPECTED)
      expect(
        rows.some((r) => typeof r.metric === 'string' && r.metric.startsWith(metric)),
        `no row "${metric}"`,
      ).toBe(true);
    for (const r of rows) {
      for (const k of ['ours', 'baseline', 'ratio'] as const)
        expect(Number.isFinite(r[k]), `${String(r.metric)}.${k} = ${String(r[k])}`).toBe(true);
      expect(typeof r.target).toBe('string');
      expect(typeof r.unit).toBe('string');
    }
    expect(results.header?.mode).toBe('quick');
    expect(typeof results.header?.date).toBe('string');
    expect(typeof results.header?.node).toBe('string');
    expect(results.header?.machine?.cpus).toBeGreaterThan(0);
  });
});
