/**
 * What one Cosmos DB request costs the process that sends it, through the SDK and bare: the
 * same small document created in the same stand-in container, 10 requests in flight (the
 * activities the local host runs at once), once through `@azure/cosmos` (the agents' path) and
 * once as a bare REST request over node:http (keep-alive, master-key signed as the REST
 * reference describes), interleaved. Measured as main-thread busy time per request from
 * `performance.eventLoopUtilization`, so the stand-in's own thread is not counted: it is the
 * floor a saga's agent requests put under the saga's time, whatever the engine does.
 */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Container } from '@azure/cosmos';
import { median } from './harness';

export interface RequestFloor {
  /** Main-thread µs per create through the SDK. */
  readonly sdkMicros: number;
  /** Main-thread µs per create as a bare, signed REST request. */
  readonly bareMicros: number;
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

/** Main-thread µs per call of `op`, `count` calls with IN_FLIGHT at once. */
async function busyMicrosPer(count: number, op: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const before = performance.eventLoopUtilization();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < count) await op(next++);
    }),
  );
  return (performance.eventLoopUtilization(before).active * 1000) / count;
}

/**
 * `container`: an empty container partitioned on `/id`, reached through the client the agents
 * use; `endpoint` and `key`: the same account, for the bare requests.
 */
export async function measureRequestFloor(
  container: Container,
  account: { readonly endpoint: string; readonly key: string },
  opts: { readonly perRound: number; readonly rounds: number },
): Promise<RequestFloor> {
  const url = new URL(account.endpoint);
  const agent = new http.Agent({ keepAlive: true });
  const link = `dbs/${container.database.id}/colls/${container.id}`;
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
          res.resume();
          res.on('end', () =>
            res.statusCode === 201 ? resolve() : reject(new Error(`a bare create answered ${res.statusCode}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const sdk = async (id: string): Promise<void> => {
    await container.items.create(doc(id));
  };
  const sdkRuns: number[] = [];
  const bareRuns: number[] = [];
  try {
    // One unmeasured round of each first, so both paths are compiled and their sockets open.
    for (let round = -1; round < opts.rounds; round++) {
      const s = await busyMicrosPer(opts.perRound, (i) => sdk(`sdk-${round}-${i}`));
      const b = await busyMicrosPer(opts.perRound, (i) => bare(`bare-${round}-${i}`));
      if (round >= 0) {
        sdkRuns.push(s);
        bareRuns.push(b);
      }
    }
  } finally {
    agent.destroy();
  }
  return { sdkMicros: median(sdkRuns), bareMicros: median(bareRuns) };
}
