/**
 * The Cosmos DB stand-in's queries in linear time (packages/functions-local/src/cosmos/
 * linear-queries.ts): the rewritten FROM clause gives the same results as the one
 * `@zeit/cosmosdb-query` emits, for the app's own query shapes over seeded random documents,
 * and the server's copy of the library compiles through it once installed.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { installLinearQueries, libraryCompiled, linearFrom } from '@fabrikam/functions-local';
import { Random } from '../../../tools/simulation/random';

interface Continuation {
  readonly token: string;
}

const fromServer = createRequire(require.resolve('@vercel/cosmosdb-server'));
const compileQuery = (fromServer('@zeit/cosmosdb-query') as { default: (q: string) => { code: string } }).default;
const execute = (
  fromServer('@zeit/cosmosdb-query/lib/executor') as {
    default: (
      collection: readonly unknown[],
      options: {
        code: string;
        parameters?: { name: string; value: unknown }[];
        maxItemCount?: number;
        continuation?: Continuation;
      },
    ) => { result: unknown[]; continuation?: Continuation };
  }
).default;

/** The shapes of the app's queries (functions/adapters), plus an alias and a projection. */
const QUERIES: readonly string[] = [
  'SELECT * FROM c',
  'SELECT * FROM c WHERE c.active = true AND c.requestedAt < @before',
  'SELECT * FROM c WHERE c.active = true AND c.requestedAt < @before AND NOT IS_DEFINED(c.sagaStartedAt)',
  "SELECT * FROM c WHERE c.failureCode = 'CompensationStuck'",
  'SELECT VALUE COUNT(1) FROM c WHERE c.active = true',
  'SELECT * FROM c WHERE c.deliveryId = @d ORDER BY c.sequence ASC',
  "SELECT c.droneId, c.deliveryId FROM c WHERE c.kind = 'reservation'",
  'SELECT c.droneId, c.status, c.sequence FROM c WHERE c.available = true',
  'SELECT r.id FROM root r WHERE r.sequence > 3',
  // Not the app's: a join's source clause is the same shape, and only that clause changes.
  'SELECT c.id, t FROM c JOIN t IN c.tags',
];

function documents(random: Random, count: number): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, i) => {
    const doc: Record<string, unknown> = {
      id: `d${i}`,
      _rid: `rid${String(i).padStart(6, '0')}`,
      deliveryId: `del-${random.int(0, 5)}`,
      droneId: `drone-${random.int(0, 9)}`,
      sequence: random.int(0, 20),
      requestedAt: new Date(Date.UTC(2026, 10, 22) + random.int(0, 3_600_000)).toISOString(),
    };
    if (random.int(0, 1)) doc.active = random.int(0, 2) > 0;
    if (random.int(0, 1)) doc.available = true;
    if (random.int(0, 3) === 0) doc.sagaStartedAt = doc.requestedAt;
    if (random.int(0, 5) === 0) doc.failureCode = 'CompensationStuck';
    doc.kind = random.int(0, 1) ? 'reservation' : 'drone';
    if (random.int(0, 1)) doc.tags = Array.from({ length: random.int(0, 3) }, (_, t) => `t${t}`);
    return doc;
  });
}

/** Every page of a query's answer, following its continuation tokens (one page without `maxItemCount`). */
function pages(
  docs: readonly unknown[],
  code: string,
  parameters: { name: string; value: unknown }[],
  maxItemCount: number | undefined,
): unknown[][] {
  const all: unknown[][] = [];
  let continuation: Continuation | undefined;
  do {
    const page = execute(docs, {
      code,
      parameters,
      ...(maxItemCount ? { maxItemCount } : {}),
      ...(continuation ? { continuation } : {}),
    });
    all.push(page.result);
    continuation = page.continuation;
  } while (continuation && all.length < 100);
  return all;
}

describe("the stand-in's queries in linear time", () => {
  it('rewrites the source clause of every query shape the app uses', () => {
    for (const q of QUERIES) {
      const original = libraryCompiled(q);
      expect(original, q).toContain('[...$, {');
      expect(linearFrom(original), q).not.toContain('[...$, {');
    }
  });

  it('gives the same pages as the original clause over seeded random documents (200 seeds)', () => {
    const parameters = [
      { name: '@before', value: new Date(Date.UTC(2026, 10, 22) + 1_800_000).toISOString() },
      { name: '@d', value: 'del-2' },
    ];
    for (let seed = 1; seed <= 200; seed++) {
      const random = new Random(seed + 1_000);
      // The stand-in hands the library what its items read as, which may be undefined.
      const docs: (Record<string, unknown> | undefined)[] = documents(new Random(seed), random.int(0, 60));
      for (let k = random.int(0, 2); k > 0; k--) docs.splice(random.int(0, docs.length), 0, undefined);
      for (const q of QUERIES) {
        const code = libraryCompiled(q);
        const maxItemCount = seed % 2 ? undefined : 7;
        expect(pages(docs, linearFrom(code), parameters, maxItemCount), `seed ${seed}: ${q}`).toEqual(
          pages(docs, code, parameters, maxItemCount),
        );
      }
    }
  });

  it('leaves code without that clause as it was', () => {
    const code = '($a, $b, $c) => $c.map((c) => c.id)';
    expect(linearFrom(code)).toBe(code);
  });

  it("once installed, the server's copy of the library compiles queries through it", () => {
    installLinearQueries();
    installLinearQueries(); // idempotent
    const q = 'SELECT * FROM c WHERE c.active = true';
    expect(compileQuery(q).code).not.toContain('[...$, {');
    expect(
      execute(
        [
          { id: 'a', _rid: 'r1', active: true },
          { id: 'b', _rid: 'r2' },
        ],
        { code: compileQuery(q).code },
      ).result,
    ).toEqual([{ id: 'a', _rid: 'r1', active: true }]);
  });
});
