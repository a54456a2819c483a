/**
 * What one Cosmos DB request costs the process that sends it, through the SDK and bare: the
 * same small document created in the same stand-in container, 10 requests in flight (the
 * activities the local host runs at once), once through `@azure/cosmos` (the agents' path) and
 * once as a bare REST request over node:http (keep-alive, master-key signed as the REST
 * reference describes, its answer parsed). Measured as the main thread's CPU time per request
 * (Linux's per-thread schedstat), so neither the stand-in's thread nor time the main thread
 * waited for a core is counted. The saga bench takes a round of it beside each measured round.
 */
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Container } from '@azure/cosmos';
import { forEachBounded } from '../../functions/resilience/retry';

export interface FloorRound {
  /** Main-thread µs per create through the SDK. */
  readonly sdkMicros: number;
  /** Main-thread µs per create as a bare, signed REST request. */
  readonly bareMicros: number;
}

export interface RequestFloorProbe {
  /** How the main thread's time is read: its CPU time, or (without Linux's schedstat) its event loop's non-idle time. */
  readonly measures: 'thread CPU' | 'event loop busy';
  /** `perRound` creates each way, the SDK's first in even rounds and the bare ones' in odd. */
  round(): Promise<FloorRound>;
  close(): void;
}

const IN_FLIGHT = 10;

/** The `Authorization` header of a master-key request (Cosmos DB REST: "Access control on resources"). */
export function masterKeyAuthorization(
  key: string,
  verb: string,
  resourceType: string,
  resourceLink: string,
  date: string,
): string {
  const text = `${verb.toLowerCase()}\n${resourceType.toLowerCase()}\n${resourceLink}\n${date.toLowerCase()}\n\n`;
  const sig = createHmac('sha256', Buffer.from(key, 'base64')).update(text).digest('base64');
  return encodeURIComponent(`type=master&ver=1.0&sig=${sig}`);
}

const SCHEDSTAT = `/proc/self/task/${process.pid}/schedstat`;

/** The main thread's CPU time in µs so far (its first schedstat field is ns on a CPU), if Linux says. */
function threadCpuMicros(): number | undefined {
  try {
    const ns = Number(fs.readFileSync(SCHEDSTAT, 'utf8').split(' ')[0]);
    // A kernel without scheduler statistics reads 0 there.
    return Number.isFinite(ns) && ns > 0 ? ns / 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `container`: a container partitioned on `/id`, reached through the client the agents use;
 * `account`: its endpoint and key, for the bare requests.
 */
export function requestFloorProbe(
  container: Container,
  account: { readonly endpoint: string; readonly key: string },
  perRound: number,
): RequestFloorProbe {
  const url = new URL(account.endpoint);
  const agent = new http.Agent({ keepAlive: true });
  const link = `dbs/${container.database.id}/colls/${container.id}`;
  const measures = threadCpuMicros() === undefined ? 'event loop busy' : 'thread CPU';
  let rounds = 0;
  const doc = (id: string): { id: string; kind: string; note: string } => ({ id, kind: 'floor', note: 'x'.repeat(80) });

  const bare = (id: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const date = new Date().toUTCString();
      const body = JSON.stringify(doc(id));
      const req = http.request(
        {
          host: url.hostname,
          port: url.port,
          path: `/${link}/docs`,
          method: 'POST',
          agent,
          headers: {
            authorization: masterKeyAuthorization(account.key, 'POST', 'docs', link, date),
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            'x-ms-date': date,
            'x-ms-version': '2020-07-15',
            'x-ms-documentdb-partitionkey': JSON.stringify([id]),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            // Read the answer as the SDK does, so both sides pay for it.
            let answer: { id?: unknown } | undefined;
            try {
              answer = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id?: unknown };
            } catch {
              answer = undefined;
            }
            if (res.statusCode === 201 && answer?.id === id) resolve();
            else reject(new Error(`a bare create answered ${res.statusCode}`));
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const sdk = async (id: string): Promise<void> => {
    await container.items.create(doc(id));
  };

  /** Main-thread µs per call of `op`, `perRound` calls with IN_FLIGHT at once (all of them settled). */
  const indices = Array.from({ length: perRound }, (_, i) => i);
  const perCall = async (op: (i: number) => Promise<void>): Promise<number> => {
    const cpuBefore = threadCpuMicros();
    const loopBefore = performance.eventLoopUtilization();
    await forEachBounded(indices, IN_FLIGHT, op);
    const cpuAfter = threadCpuMicros();
    const micros =
      cpuBefore !== undefined && cpuAfter !== undefined
        ? cpuAfter - cpuBefore
        : performance.eventLoopUtilization(loopBefore).active * 1000;
    return micros / perRound;
  };

  return {
    measures,
    async round() {
      const r = rounds++;
      const sdkRound = (): Promise<number> => perCall((i) => sdk(`sdk-${r}-${i}`));
      const bareRound = (): Promise<number> => perCall((i) => bare(`bare-${r}-${i}`));
      // Each goes first in every other round, so what the round before left (garbage, a cold
      // cache) is not always charged to the same side.
      if (r % 2 === 0) {
        const sdkMicros = await sdkRound();
        return { sdkMicros, bareMicros: await bareRound() };
      }
      const bareMicros = await bareRound();
      return { sdkMicros: await sdkRound(), bareMicros };
    },
    close() {
      agent.destroy();
    },
  };
}
