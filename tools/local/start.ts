/**
 * `npm start`: the command-line front of the local runtime (@fabrikam/functions-local, bound to
 * this app in fabrikam.ts). Parses options, starts
 * the runtime, prints the base URL and what it serves, logs one line per invocation, and on
 * SIGINT/SIGTERM stops everything in order and exits 0 (a second signal exits at once).
 */
import { parseArgs } from 'node:util';
import type { Caller } from '../../domain/shared/caller';
import { DEFAULT_CAPTURE_WINDOW_MS, DEFAULT_DATA_DIR, startLocalRuntime } from './fabrikam';
import type { LocalLogger, LocalRuntimeOptions } from './fabrikam';

const USAGE = `Usage: npm start -- [options]

Runs the whole function app on this machine with embedded stand-ins (no Azure, Docker or Core Tools).

Options:
  --data-dir <dir>          Where state lives (default ${DEFAULT_DATA_DIR}/ in the working directory)
  --fresh                   Wipe the data directory first
  --port <n>                HTTP port (default PORT from the environment, else 7071; 0 = any free port)
  --host <address>          Interface to listen on (default 127.0.0.1). Local endpoints carry no auth.
  --dev-principal <id>[:Role1,Role2]
                            Caller added to requests that carry no x-ms-client-principal headers
  --capture-window <sec>    Capture window per partition (default ${DEFAULT_CAPTURE_WINDOW_MS / 1000})
  --cosmos-port <n>         Port of the Cosmos DB stand-in (default: free)
  --azurite-port <n>        Port of Azurite's blob service (default: free)
  --lake-port <n>           Port of the Data Lake stand-in (default: free)
  --verbose                 Also print the functions' information logs
  --quiet                   No line per successful invocation
  -h, --help                This text

Settings: the environment and local.settings.json (Values) override the app-tunable settings
(e.g. PickupSlaMinutes); the stand-ins' endpoints are always set by the runtime.`;

export function parseDevPrincipal(text: string): Caller {
  const [id, roles] = text.split(':', 2);
  if (!id || !/^[A-Za-z0-9_.@-]{1,128}$/.test(id))
    throw new Error(`--dev-principal: "${text}" does not start with a principal id.`);
  return {
    id,
    roles: roles
      ? roles
          .split(',')
          .map((r) => r.trim())
          .filter((r) => r !== '')
      : [],
  };
}

function portOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name} must be a port number, got "${value}".`);
  return n;
}

export function optionsFromArgs(argv: readonly string[]): Omit<LocalRuntimeOptions, 'profile'> | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      'data-dir': { type: 'string' },
      fresh: { type: 'boolean' },
      port: { type: 'string' },
      host: { type: 'string' },
      'dev-principal': { type: 'string' },
      'capture-window': { type: 'string' },
      'cosmos-port': { type: 'string' },
      'azurite-port': { type: 'string' },
      'lake-port': { type: 'string' },
      verbose: { type: 'boolean' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const captureSeconds = values['capture-window'] === undefined ? undefined : Number(values['capture-window']);
  if (captureSeconds !== undefined && !(captureSeconds > 0))
    throw new Error('--capture-window must be a positive number of seconds.');
  const port = portOption(values.port, '--port');
  const cosmosPort = portOption(values['cosmos-port'], '--cosmos-port');
  const azuritePort = portOption(values['azurite-port'], '--azurite-port');
  const lakePort = portOption(values['lake-port'], '--lake-port');
  return {
    ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}),
    ...(values.fresh ? { fresh: true } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(values.host ? { hostname: values.host } : {}),
    ...(values['dev-principal'] ? { devPrincipal: parseDevPrincipal(values['dev-principal']) } : {}),
    ...(captureSeconds !== undefined ? { captureWindowMs: Math.round(captureSeconds * 1000) } : {}),
    ...(cosmosPort !== undefined ? { cosmosPort } : {}),
    ...(azuritePort !== undefined ? { azuritePort } : {}),
    ...(lakePort !== undefined ? { lakePort } : {}),
    ...(values.verbose ? { verbose: true } : {}),
    ...(values.quiet ? { quiet: true } : {}),
  };
}

const time = (): string => new Date().toISOString().slice(11, 23);

const logger: LocalLogger = (level, category, message) => {
  const line = `${time()} ${category === 'Invocation' ? '' : `[${category}] `}${message}`;
  if (level === 'error' || level === 'critical') console.error(line);
  else if (level === 'warning') console.warn(line);
  else if (level !== 'trace' && level !== 'debug' && level !== 'none') console.log(line);
};

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

async function main(): Promise<void> {
  let options: Omit<LocalRuntimeOptions, 'profile'> | 'help';
  try {
    options = optionsFromArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (options === 'help') {
    console.log(USAGE);
    return;
  }
  if (options.hostname && !LOOPBACK.has(options.hostname)) {
    console.warn(
      `WARNING: listening on ${options.hostname}. The local endpoints (publishing, the durable API, principal headers) carry no authentication: anyone who can reach this address can call them.`,
    );
  }
  const started = Date.now();
  const runtime = await startLocalRuntime({ ...options, logger });
  console.log(`Fabrikam local runtime listening on ${runtime.baseUrl}`);
  console.log(
    `  data: ${runtime.dataDir}${runtime.cosmosReplayed > 0 ? ` (Cosmos DB: ${runtime.cosmosReplayed} writes restored)` : ''}`,
  );
  if (options.devPrincipal)
    console.log(`  dev principal: ${options.devPrincipal.id} [${options.devPrincipal.roles.join(', ')}]`);
  console.log(`Functions and endpoints:`);
  for (const line of runtime.describe()) console.log(line);
  console.log(`Ready in ${Date.now() - started} ms. Ctrl+C stops.`);

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      console.error(`${signal} again: exiting without a clean stop.`);
      process.exit(1);
    }
    console.log(`${time()} ${signal}: stopping…`);
    runtime
      .stop()
      .then(() => {
        console.log(`${time()} Stopped.`);
        process.exit(0);
      })
      .catch((e: unknown) => {
        console.error(`Stopping failed: ${(e as Error).stack ?? String(e)}`);
        process.exit(1);
      });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(`The local runtime did not start: ${(e as Error).stack ?? String(e)}`);
    process.exit(1);
  });
}
