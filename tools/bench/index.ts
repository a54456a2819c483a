/**
 * `npm run bench`: every benchmark in one process run, each measurement beside its baseline
 * (A/B interleaved, median of 5 rounds; `--quick`: one short round, a smoke check whose numbers
 * mean nothing), one table, and the rows in bench/results.json (`--out <file>` to put it
 * elsewhere) under a header naming the date, machine, Node version and mode.
 *
 * Phases, in this order because the app can be loaded only once per process and its
 * composition is process-wide: the pure and stand-alone benchmarks (ingestion, validator,
 * Cosmos writes, Capture format, projector) on their own Cosmos stand-ins; then the local
 * runtime with the app loaded once (status inquiry over HTTP, load levelling on its hubs); then,
 * with the runtime stopped, the saga on its own engine over the same loaded registry.
 * Everything started is stopped on the way out, on failure and on SIGINT/SIGTERM too.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resetComposition } from '../../functions/composition';
import { repoRoot, startLocalRuntime } from '../local/fabrikam';
import type { LocalRuntime } from '../local/fabrikam';
import type { LocalLogger } from '@fabrikam/functions-local';
import { benchApp } from './app';
import { benchAssignment } from './assignment';
import { benchCapture } from './capture';
import { missed, printTable } from './harness';
import { writeReadmeTable } from './readme-table';
import type { Row } from './harness';
import { benchHistory } from './history';
import { benchIngest } from './ingest';
import { benchLoadLevelling } from './load-levelling';
import { benchSaga } from './saga';
import { benchStatus } from './status';
import { benchSupervisor } from './supervisor';

export interface BenchHeader {
  readonly date: string;
  readonly machine: {
    readonly cpus: number;
    readonly cpuModel: string;
    readonly memoryGiB: number;
    readonly platform: string;
  };
  readonly node: string;
  readonly mode: 'full' | 'quick';
  readonly method: string;
  readonly durationSeconds: number;
}

export interface BenchResults {
  readonly header: BenchHeader;
  readonly rows: readonly Row[];
}

interface Args {
  readonly quick: boolean;
  readonly out: string;
  /** The README whose performance table a full run rewrites; undefined: leave it alone. */
  readonly readme: string | undefined;
}

export function parseArgs(argv: readonly string[]): Args {
  let quick = false;
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') quick = true;
    else if (a === '--out') {
      out = argv[++i];
      if (!out) throw new Error('--out needs a file name');
    } else if (a?.startsWith('--out=')) out = a.slice('--out='.length);
    else throw new Error(`Unknown argument ${String(a)}. Usage: npm run bench -- [--quick] [--out <file>]`);
  }
  // Only a full run into the committed results file may speak for the README.
  const readme = !quick && out === undefined ? path.join(repoRoot(), 'README.md') : undefined;
  return { quick, out: path.resolve(out ?? path.join(repoRoot(), 'bench', 'results.json')), readme };
}

/** Table order: the issue's rows 1-7. */
const ORDER = [
  'ingest handler',
  'Cosmos requests',
  'request units',
  'validator',
  'validateTelemetry',
  'load levelling',
  'status inquiry',
  'saga:',
  'projector',
  'supervisor',
  'capture',
  'scale:',
];
const rank = (r: Row): number => {
  const i = ORDER.findIndex((p) => r.metric.startsWith(p));
  return i < 0 ? ORDER.length : i;
};

/** Runtime messages worth seeing during a benchmark: warnings and errors, to stderr. */
const runtimeLogger: LocalLogger = (level, category, message) => {
  if (level === 'warning' || level === 'error' || level === 'critical')
    console.error(`  runtime ${level} [${category}] ${message}`);
};

async function main(args: Args): Promise<void> {
  const started = Date.now();
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async (): Promise<void> => {
    for (const c of cleanups.splice(0).reverse())
      await c().catch((e: unknown) => console.error('bench: cleanup failed:', e));
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    console.error(`bench: ${signal}, stopping`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const opts = { quick: args.quick };
  const rows: Row[] = [];
  const phase = async (name: string, run: () => Promise<Row[]>): Promise<void> => {
    const t = Date.now();
    process.stdout.write(`bench: ${name}… `);
    const got = await run();
    rows.push(...got);
    console.log(`${got.length} row${got.length === 1 ? '' : 's'} in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  };

  console.log(
    `bench on Node ${process.version}, ${os.cpus().length} cpus, ${args.quick ? 'QUICK smoke run (one short round; the numbers mean nothing)' : 'A/B interleaved, median of 5 rounds'}`,
  );
  try {
    await phase('ingestion, validator, Cosmos writes', () => benchIngest(opts));
    await phase('Capture format', () => benchCapture(opts));
    await phase('projector', () => benchHistory(opts));
    await phase('supervisor', () => benchSupervisor(opts));
    await phase('assignment at fleet scale', () => benchAssignment(opts));

    const registry = benchApp();
    resetComposition();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fabrikam-bench-'));
    cleanups.push(async () => fs.rmSync(dataDir, { recursive: true, force: true }));
    let rt: LocalRuntime | undefined;
    await phase('local runtime start', async () => {
      rt = await startLocalRuntime({
        dataDir,
        port: 0,
        quiet: true,
        localSettings: false,
        logger: runtimeLogger,
        app: () => undefined,
      });
      return [];
    });
    const runtime = rt;
    if (!runtime) throw new Error('the local runtime did not start');
    cleanups.push(() => runtime.stop());
    await phase('status inquiry over HTTP', () => benchStatus(runtime, opts));
    await phase('load levelling', () => benchLoadLevelling(runtime, opts));
    await cleanup();

    await phase('saga', () => benchSaga({ ...opts, registry }));
  } finally {
    await cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  rows.sort((a, b) => rank(a) - rank(b));
  for (const [i, r] of rows.entries())
    if (missed(r) && !/missed/.test(r.note ?? ''))
      rows[i] = { ...r, note: `target missed${r.note ? `; ${r.note}` : ''}` };
  console.log('');
  printTable(rows);
  const cpus = os.cpus();
  const results: BenchResults = {
    header: {
      date: new Date(started).toISOString(),
      machine: {
        cpus: cpus.length,
        cpuModel: cpus[0]?.model.trim() ?? 'unknown',
        memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
        platform: `${os.platform()} ${os.arch()}`,
      },
      node: process.version,
      mode: args.quick ? 'quick' : 'full',
      method: args.quick ? 'one short round per measurement (smoke check)' : 'A/B interleaved, median of 5 rounds',
      durationSeconds: Math.round((Date.now() - started) / 100) / 10,
    },
    rows,
  };
  fs.mkdirSync(path.dirname(args.out), { recursive: true });
  fs.writeFileSync(args.out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nbench: ${rows.length} rows → ${args.out} (${results.header.durationSeconds} s)`);
  const broken = rows.filter((r) => ![r.ours, r.baseline, r.ratio].every(Number.isFinite));
  if (broken.length > 0) throw new Error(`non-finite figures in: ${broken.map((r) => r.metric).join(', ')}`);
  if (args.readme) {
    await writeReadmeTable(args.readme, results);
    console.log(`bench: the performance table in ${args.readme} now shows this run`);
  }
}

if (require.main === module) {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error((e as Error).message);
    process.exit(2);
  }
  main(args).then(
    // Cosmos clients and the durable engine leave keep-alive sockets and timers behind.
    () => process.exit(0),
    (e: unknown) => {
      console.error('bench failed:', e);
      process.exit(1);
    },
  );
}
