/**
 * A typed seam over autocannon's programmatic API (the package ships no types): a closed-loop
 * HTTP load of fixed concurrency and duration, with every 2xx response's latency kept at full
 * resolution (autocannon's own histogram rounds to whole milliseconds), and the same closed
 * loop for any async call, so an HTTP endpoint and an SDK call are driven alike.
 */
import { createRequire } from 'node:module';
import type { EventEmitter } from 'node:events';

interface AutocannonOptions {
  readonly url: string;
  readonly connections: number;
  readonly duration: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly method?: 'GET';
}

interface AutocannonResult {
  readonly duration: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  readonly '2xx': number;
}

type Autocannon = (
  opts: AutocannonOptions,
  done: (err: Error | null, result: AutocannonResult) => void,
) => EventEmitter;

const autocannon = createRequire(__filename)('autocannon') as Autocannon;

export interface LoadResult {
  /** Successful operations per second over the run. */
  readonly perSecond: number;
  readonly latenciesMs: number[];
  readonly failures: number;
}

export function httpLoad(
  url: string,
  headers: Readonly<Record<string, string>>,
  connections: number,
  seconds: number,
): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    const tracker = autocannon({ url, connections, duration: seconds, headers, method: 'GET' }, (err, result) => {
      if (err) return reject(err);
      resolve({
        perSecond: result['2xx'] / result.duration,
        latenciesMs: latencies,
        failures: result.errors + result.timeouts + result.non2xx,
      });
    });
    tracker.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
    });
  });
}

/** `connections` loops calling `call` back to back for `seconds`. */
export async function callLoad(
  call: () => Promise<unknown>,
  connections: number,
  seconds: number,
): Promise<LoadResult> {
  const latencies: number[] = [];
  let failures = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < deadline) {
        const t = performance.now();
        try {
          await call();
          latencies.push(performance.now() - t);
        } catch {
          failures++;
        }
      }
    }),
  );
  return { perSecond: latencies.length / ((performance.now() - started) / 1000), latenciesMs: latencies, failures };
}
