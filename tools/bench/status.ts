/**
 * The status inquiry through the local runtime's whole HTTP stack beside the point read it
 * wraps: `GET /api/deliveries/{id}` with App Service principal headers, driven by autocannon on
 * loopback, ÷ the same point read done by `@azure/cosmos` against the runtime's own Cosmos
 * endpoint, with the same concurrency and duration, interleaved A/B. Both load generators run
 * in this process, as does the runtime, so each side pays for its own client on the same cores.
 */
import { CosmosClient } from '@azure/cosmos';
import { CosmosStatusViewStore } from '../../functions/adapters/cosmos-status-view-store';
import { principalHeaders } from '../../functions/http/identity';
import { COSMOS_CONTAINERS } from '../../functions/resources';
import type { DeliveryStatusView } from '../../domain/delivery/status';
import type { LocalRuntime } from '../local/fabrikam';
import { cpuByPart, profiled } from './cpu-profile';
import type { CpuProfile, Part } from './cpu-profile';
import { median, percentile } from './harness';
import type { Row } from './harness';
import { callLoad, httpLoad } from './http-load';
import type { LoadResult } from './http-load';

const CONNECTIONS = 10;
const PROFILE_INTERVAL_MICROS = 250;
const OWNER = 'bench-owner';

const inPackage = (...names: string[]) => {
  const re = new RegExp(`/node_modules/(${names.map((n) => n.replace(/[/.]/g, '\\$&')).join('|')})/`);
  return (url: string): boolean => re.test(url);
};
const standInPackages = inPackage('@vercel/cosmosdb-server', '@zeit/cosmosdb-query');
const autocannon = inPackage('autocannon');
const local = (url: string): boolean =>
  /\/(packages|node_modules\/@fabrikam)\/functions-local\/|\/dist-tools\/tools\/local\//.test(url);

/**
 * The parts a status inquiry's CPU is split between on this thread: the load generator, the
 * local host, the app with its SDKs. The Cosmos DB stand-in runs on a thread of its own under the
 * built runtime (its profile is taken there and counted whole); its part here is for when it
 * runs in-process.
 */
export const STATUS_PARTS: readonly Part[] = [
  {
    name: 'Cosmos DB stand-in',
    matches: (u) => standInPackages(u) || (local(u) && /\/(cosmos\/|host\/standins\.)/.test(u)),
  },
  { name: 'local host (@fabrikam/functions-local)', matches: local },
  {
    name: 'Cosmos DB SDK (@azure/cosmos, @azure/core-*)',
    matches: (u) => /\/node_modules\/@azure\/(cosmos|core-[^/]+|abort-controller|logger)\//.test(u),
  },
  { name: 'Functions SDK (@azure/functions, undici)', matches: inPackage('@azure/functions', 'undici') },
  { name: 'app (functions/, domain/)', matches: (u) => /\/dist-tools\/(functions|domain)\//.test(u) },
  {
    name: 'load generator (autocannon, the bench)',
    matches: (u) => autocannon(u) || /\/dist-tools\/tools\/bench\//.test(u),
  },
];

const STAND_IN_THREAD = 'Cosmos DB stand-in (its own thread)';

/**
 * One load round under the profiler: this thread's profile and, when the runtime's stand-in runs
 * on a thread of its own, that thread's too.
 */
async function profiledRound(
  rt: LocalRuntime,
  work: () => Promise<LoadResult>,
): Promise<{ result: LoadResult; main: CpuProfile; standIn?: CpuProfile }> {
  await rt.cosmosProfiler?.start(PROFILE_INTERVAL_MICROS);
  const { result, profile } = await profiled(work, PROFILE_INTERVAL_MICROS);
  const standIn = (await rt.cosmosProfiler?.stop()) as CpuProfile | undefined;
  return { result, main: profile, ...(standIn ? { standIn } : {}) };
}

/**
 * CPU per operation of each part over a profiled round: this thread's by part, and all of the
 * stand-in's thread (its garbage collection too) as one part.
 */
function splitPerOperation(round: Awaited<ReturnType<typeof profiledRound>>): { part: string; micros: number }[] {
  const operations = Math.max(1, round.result.latenciesMs.length);
  const parts = cpuByPart(round.main, STATUS_PARTS);
  if (round.standIn) parts.push({ part: STAND_IN_THREAD, micros: sumMicros(cpuByPart(round.standIn, [])) });
  return parts.map(({ part, micros }) => ({ part, micros: micros / operations })).sort((a, b) => b.micros - a.micros);
}

const sumMicros = (xs: readonly { micros: number }[]): number => xs.reduce((n, x) => n + x.micros, 0);

export async function benchStatus(rt: LocalRuntime, opts: { quick: boolean }): Promise<Row[]> {
  const { endpoint, key, database } = rt.endpoints.cosmos;
  const client = new CosmosClient({ endpoint, key, connectionPolicy: { enableEndpointDiscovery: false } });
  try {
    const container = client.database(database).container(COSMOS_CONTAINERS.deliveryStatus.name);
    // The view as the projector writes it, through the same adapter.
    const view: DeliveryStatusView = {
      deliveryId: 'bench-status-1',
      ownerId: OWNER,
      stage: 'InTransit',
      droneId: 'drone-7',
      lastKnownLocation: { lat: 47.615, lon: -122.34, altitudeM: 90 },
      version: 6,
      updatedAt: '2026-11-22T10:11:00.000Z',
    };
    await new CosmosStatusViewStore(container).write(view, undefined);
    const url = `${rt.baseUrl}/api/deliveries/${view.deliveryId}`;
    const headers = principalHeaders({ id: OWNER, roles: [] });
    const probe = await fetch(url, { headers });
    if (probe.status !== 200) throw new Error(`GET ${url} answered ${probe.status}: ${await probe.text()}`);
    await probe.arrayBuffer().catch(() => undefined);

    const seconds = opts.quick ? 1 : 3;
    const rounds = opts.quick ? 1 : 5;
    const read = (): Promise<unknown> => container.item(view.deliveryId, view.deliveryId).read();
    // Warm both paths (connections, JIT) before the clock matters.
    await httpLoad(url, headers, CONNECTIONS, 1);
    await callLoad(read, CONNECTIONS, 0.5);
    const ours: { rate: number; p50: number; p99: number; failures: number }[] = [];
    const base: { rate: number; p50: number; p99: number; failures: number }[] = [];
    for (let i = 0; i < rounds; i++) {
      const a = await httpLoad(url, headers, CONNECTIONS, seconds);
      ours.push({
        rate: a.perSecond,
        p50: percentile(a.latenciesMs, 50),
        p99: percentile(a.latenciesMs, 99),
        failures: a.failures,
      });
      const b = await callLoad(read, CONNECTIONS, seconds);
      base.push({
        rate: b.perSecond,
        p50: percentile(b.latenciesMs, 50),
        p99: percentile(b.latenciesMs, 99),
        failures: b.failures,
      });
    }
    // One more round of each side under the sampling profiler, outside the measured rounds (the
    // profiler slows both): the CPU a request costs, split by the part of the system spending it.
    const httpSplit = splitPerOperation(await profiledRound(rt, () => httpLoad(url, headers, CONNECTIONS, seconds)));
    const readSplit = splitPerOperation(await profiledRound(rt, () => callLoad(read, CONNECTIONS, seconds)));
    const httpCpu = sumMicros(httpSplit);
    const readCpu = sumMicros(readSplit);
    const shares = (xs: readonly { part: string; micros: number }[], total: number): string =>
      xs.map((x) => `${x.part} ${((100 * x.micros) / total).toFixed(0)} %`).join(', ');

    const m = (xs: typeof ours, k: 'rate' | 'p50' | 'p99'): number => median(xs.map((x) => x[k]));
    const failures = ours.reduce((n, x) => n + x.failures, 0) + base.reduce((n, x) => n + x.failures, 0);
    const rate = { ours: m(ours, 'rate'), base: m(base, 'rate') };
    const ratio = rate.ours / rate.base;
    const why = `information (the >= 0.8 target is retired: the load generator, the host and the stand-in share the same cores). Each inquiry adds a whole loopback HTTP exchange to the same SDK point read: autocannon's client, the local host's request parsing, a Functions HttpRequest (an undici Request) built per call, the principal header decoded, the JSON response written; the CPU rows below split where it goes`;
    const tail = `${CONNECTIONS} connections, ${seconds} s per side per round, median of ${rounds}${failures > 0 ? `; ${failures} failed requests` : ''}`;
    return [
      {
        metric: 'status inquiry: HTTP GET vs Cosmos point read',
        ours: rate.ours,
        baseline: rate.base,
        ratio,
        target: 'info',
        unit: 'requests/s vs point reads/s',
        note: `${why}; ${tail}`,
      },
      {
        metric: 'status inquiry: CPU per request, HTTP GET vs point read',
        ours: httpCpu,
        baseline: readCpu,
        ratio: httpCpu / readCpu,
        target: 'info',
        unit: 'µs of CPU per operation (sampling profiles of both threads)',
        note: `one profiled round of each side (${seconds} s, ${CONNECTIONS} connections). HTTP GET: ${shares(httpSplit, httpCpu)}. Point read: ${shares(readSplit, readCpu)}`,
      },
      ...httpSplit.map((x) => ({
        metric: `status inquiry CPU: ${x.part}`,
        ours: x.micros,
        baseline: httpCpu,
        ratio: x.micros / httpCpu,
        target: 'info',
        unit: 'µs of CPU per HTTP request (part vs whole); ratio = share',
      })),
      {
        metric: 'status inquiry: p50 latency',
        ours: m(ours, 'p50'),
        baseline: m(base, 'p50'),
        ratio: m(ours, 'p50') / m(base, 'p50'),
        target: 'info',
        unit: 'ms (HTTP vs point read)',
      },
      {
        metric: 'status inquiry: p99 latency',
        ours: m(ours, 'p99'),
        baseline: m(base, 'p99'),
        ratio: m(ours, 'p99') / m(base, 'p99'),
        target: 'info (Cosmos DB point read p99 < 10 ms)',
        unit: 'ms (HTTP vs point read)',
        note: 'closed-loop latency at full concurrency on loopback; the stand-in is not Cosmos DB, so the anchor is for scale, not a like-for-like comparison',
      },
    ];
  } finally {
    client.dispose();
  }
}
