/**
 * The Cosmos DB stand-in's documents as it stores them now (field by field, sharing hidden
 * classes: packages/functions-local/src/cosmos/shared-shapes.ts) against as
 * `@vercel/cosmosdb-server` built them (`{ ...parsedBody, id, _etag, _rid, _self, _ts }`), read by
 * the supervisor's three intake queries compiled by the server's own query library, in one
 * process, A/B interleaved. Only the documents' construction differs, so the ratio is what the
 * shapes cost a query on this Node.
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { installLinearQueries, sharedShape } from '@fabrikam/functions-local';
import { sideBySide } from './harness';
import type { Row } from './harness';

interface Compiled {
  exec(collection: readonly unknown[], options: { parameters?: { name: string; value: unknown }[] }): unknown;
}

/** Intake records as the supervisor bench's 10,000-in-flight fleet has them: a third closed, the rest open and marked. */
function bodies(count: number, now: number): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, i) => {
    const at = new Date(now - (i < count / 3 ? 10 * 86_400_000 : 3_600_000) + i * 10).toISOString();
    const id = `d${i}`;
    return i < count / 3
      ? { id, deliveryId: id, ownerId: 'bench', canonical: '{}', requestedAt: at, active: false, outcome: 'Failed' }
      : { id, deliveryId: id, ownerId: 'bench', canonical: '{}', requestedAt: at, active: true, sagaStartedAt: at };
  });
}

/** As the server stores a document: the parsed body spread, grown by its system fields. */
const asServerBuilt = (body: Record<string, unknown>, i: number): Record<string, unknown> => {
  const data = JSON.parse(JSON.stringify(body)) as Record<string, unknown>;
  return { ...data, id: data['id'], _etag: randomUUID(), _rid: `r${i}`, _self: `s${i}`, _ts: 1 };
};

export async function benchStandInShapes(opts: { quick: boolean }): Promise<Row[]> {
  installLinearQueries();
  const compile = (
    createRequire(require.resolve('@vercel/cosmosdb-server'))('@zeit/cosmosdb-query') as {
      default: (q: string) => Compiled;
    }
  ).default;
  const now = Date.UTC(2026, 10, 22, 12);
  const count = opts.quick ? 1500 : 15_000;
  const spread = bodies(count, now).map(asServerBuilt);
  const shared = spread.map(sharedShape);
  const queries: [Compiled, { name: string; value: unknown }[]][] = [
    [
      compile('SELECT * FROM c WHERE c.active = true AND c.requestedAt < @before'),
      [{ name: '@before', value: new Date(now - 2 * 3_600_000).toISOString() }],
    ],
    [
      compile('SELECT * FROM c WHERE c.active = true AND c.requestedAt < @before AND NOT IS_DEFINED(c.sagaStartedAt)'),
      [{ name: '@before', value: new Date(now - 300_000).toISOString() }],
    ],
    [compile("SELECT * FROM c WHERE c.failureCode = 'CompensationStuck'"), []],
  ];
  const run = (docs: readonly unknown[]) => async (): Promise<number> => {
    const t = performance.now();
    for (const [q, parameters] of queries) q.exec(docs, { parameters });
    return performance.now() - t;
  };
  const rounds = opts.quick ? 3 : 41;
  await sideBySide(run(shared), run(spread), 5); // warm both
  const { ours, baseline } = await sideBySide(run(shared), run(spread), rounds);
  return [
    {
      metric: `supervisor's intake queries on the stand-in, ${count.toLocaleString('en-US')} documents: shared shapes vs as the server built them`,
      ours,
      baseline,
      ratio: ours / baseline,
      target: 'info',
      unit: `ms per run of the three queries (median of ${rounds}, A/B interleaved), the server's own compiled queries, no HTTP`,
      note: `on Node ${process.version}: the server stored each document as a spread of the parsed body grown by its system fields, which on Node 20 gives every document a hidden class of its own, so a query's filter reads each field through a megamorphic cache (Node 22 shares them); the stand-in now stores a copy built field by field`,
    },
  ];
}
