/**
 * The soak simulator's command line: its usage text and the options parsed and range-checked
 * from argv (`npm run simulate -- --help`).
 */
import { parseArgs } from 'node:util';

export const USAGE = `Usage: npm run simulate -- [options]
  --drones <n>          Drones in the fleet (default 10)
  --deliveries <n>      Deliveries to request (default 20)
  --rate <r>            Delivery requests per second (default 2)
  --target local|azure  Where the pipeline runs (default local)
  --url <base url>      The HTTP API's base (default http://127.0.0.1:7071 locally; required for azure)
  --namespace <fqdn>    Event Hubs namespace (azure), e.g. myns.servicebus.windows.net
  --scope <scope>       Token scope for the HTTP API (azure), e.g. api://<app-client-id>/.default
  --duplicates <p>      Probability that a telemetry event is sent twice (default 0)
  --reorder <p>         Probability that an in-flight position report is delivered after the next one (default 0)
  --poison <p>          Probability that a poison event is sent beside a telemetry event (default 0)
  --cancel <p>          Share of deliveries cancelled (DELETE) at a random moment (default 0)
  --wrong-drone <p>     Share of deliveries that get a milestone report from a drone not assigned to them (default 0)
  --heartbeat <s>       Seconds between an idle drone's reports (default 30)
  --speedup <x>         Flight time scale (default 60: a 6-minute flight takes 6 s)
  --interval <ms>       Real milliseconds between a flying drone's reports (default 250)
  --timeout <s>         Give up on deliveries still open after this long (default 300)
  --data-dir <dir>      The local runtime's data directory, to count dead letters (default .data)
  --seed <n>            Random seed (default: time)
  --summary-json <file> Also write the summary and the invariant results as JSON`;

export interface Options {
  readonly drones: number;
  readonly deliveries: number;
  readonly rate: number;
  readonly target: 'local' | 'azure';
  readonly url: string;
  readonly namespace?: string;
  readonly scope?: string;
  readonly duplicates: number;
  readonly reorder: number;
  readonly poison: number;
  readonly cancel: number;
  readonly wrongDrone: number;
  readonly heartbeatMs: number;
  readonly summaryJson?: string;
  readonly speedup: number;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly dataDir: string;
  readonly seed: number;
}

function num(value: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new Error(`--${name} must be a number in [${min}, ${max}], got "${value}".`);
  return n;
}

export function parseOptions(argv: readonly string[]): Options | 'help' {
  const { values: v } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      drones: { type: 'string' },
      deliveries: { type: 'string' },
      rate: { type: 'string' },
      target: { type: 'string' },
      url: { type: 'string' },
      namespace: { type: 'string' },
      scope: { type: 'string' },
      duplicates: { type: 'string' },
      reorder: { type: 'string' },
      poison: { type: 'string' },
      cancel: { type: 'string' },
      'wrong-drone': { type: 'string' },
      heartbeat: { type: 'string' },
      'summary-json': { type: 'string' },
      speedup: { type: 'string' },
      interval: { type: 'string' },
      timeout: { type: 'string' },
      'data-dir': { type: 'string' },
      seed: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help) return 'help';
  const target = v.target ?? 'local';
  if (target !== 'local' && target !== 'azure') throw new Error('--target must be local or azure.');
  if (target === 'azure' && (!v.url || !v.namespace || !v.scope))
    throw new Error('--target azure needs --url, --namespace and --scope.');
  const port = process.env.PORT && process.env.PORT !== '' ? process.env.PORT : '7071';
  return {
    drones: num(v.drones, 'drones', 10, 1, 10_000),
    deliveries: num(v.deliveries, 'deliveries', 20, 0, 1_000_000),
    rate: num(v.rate, 'rate', 2, 0.01, 10_000),
    target,
    url: (v.url ?? `http://127.0.0.1:${port}`).replace(/\/$/, ''),
    ...(v.namespace ? { namespace: v.namespace } : {}),
    ...(v.scope ? { scope: v.scope } : {}),
    duplicates: num(v.duplicates, 'duplicates', 0, 0, 1),
    reorder: num(v.reorder, 'reorder', 0, 0, 1),
    poison: num(v.poison, 'poison', 0, 0, 1),
    cancel: num(v.cancel, 'cancel', 0, 0, 1),
    wrongDrone: num(v['wrong-drone'], 'wrong-drone', 0, 0, 1),
    heartbeatMs: num(v.heartbeat, 'heartbeat', 30, 0.1, 3600) * 1000,
    ...(v['summary-json'] ? { summaryJson: v['summary-json'] } : {}),
    speedup: num(v.speedup, 'speedup', 60, 0.1, 100_000),
    intervalMs: num(v.interval, 'interval', 250, 10, 60_000),
    timeoutMs: num(v.timeout, 'timeout', 300, 1, 86_400) * 1000,
    dataDir: v['data-dir'] ?? '.data',
    seed: num(v.seed, 'seed', Date.now() % 2_147_483_647, 0, 2_147_483_647),
  };
}
