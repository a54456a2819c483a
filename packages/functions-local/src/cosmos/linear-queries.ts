/**
 * Queries on the Cosmos DB stand-in in time linear in the container's size.
 *
 * `@vercel/cosmosdb-server` runs a query through `@zeit/cosmosdb-query`, which compiles it to
 * JavaScript. For the FROM clause of a query over a single source it emits
 *
 *     $c.reduce(($, c) => typeof c !== "undefined" ? [...$, { c: c }] : $, [])
 *
 * which copies the whole result so far for every document: quadratic, and worse once the arrays
 * grow large (measured here, one query over intake records: 65 ms at 8,000 documents, 753 ms at
 * 12,000, 2.7 s at 15,000; the stand-in serves every query of the app, including the
 * supervisor's and the intake's in-flight count). `installLinearQueries` rewrites exactly that
 * clause, as the library emits it, into the equivalent filter and map. Everything else (a
 * join's further sources, code a future version emits differently) is left as it was, so a
 * query never answers differently, only sooner. `test/integration/local/linear-queries.test.ts`
 * checks the answers are the same.
 */
import { createRequire } from 'node:module';

/** The single-source FROM clause as `@zeit/cosmosdb-query` 0.7 emits it; groups: the source's name, its alias. */
const QUADRATIC_FROM =
  /\$c\.reduce\(\(\$, ([A-Za-z_$][\w$]*)\) => typeof \1 !== "undefined" \? \[\.\.\.\$, \{\s*([A-Za-z_$][\w$]*): \1\s*\}\] : \$, \[\]\)/g;

/** The same clause in linear time: the defined documents, each under its alias. */
export function linearFrom(code: string): string {
  return code.replace(
    QUADRATIC_FROM,
    (_whole, source: string, alias: string) =>
      `$c.filter((${source}) => typeof ${source} !== "undefined").map((${source}) => ({ ${alias}: ${source} }))`,
  );
}

interface CompiledQuery {
  readonly code: string;
}

/** The `@zeit/cosmosdb-query` that this process's `@vercel/cosmosdb-server` loads, and its compiled query's prototype. */
function serverQueries(): { compile: (query: string) => CompiledQuery; proto: object } {
  const fromServer = createRequire(require.resolve('@vercel/cosmosdb-server'));
  const compile = (fromServer('@zeit/cosmosdb-query') as { default: (query: string) => CompiledQuery }).default;
  return { compile, proto: Object.getPrototypeOf(compile('SELECT * FROM c')) as object };
}

/** The library's own `code` getter, kept when the rewrite is installed. */
let libraryCode: ((this: CompiledQuery) => string) | undefined;

/**
 * Makes every query compiled by the `@zeit/cosmosdb-query` that this process's
 * `@vercel/cosmosdb-server` loads use `linearFrom`. Idempotent; call it in the thread that runs
 * the server, before it serves.
 */
export function installLinearQueries(): void {
  if (libraryCode) return;
  const { proto } = serverQueries();
  const compiled = Object.getOwnPropertyDescriptor(proto, 'code');
  const get = compiled?.get as ((this: CompiledQuery) => string) | undefined;
  if (!get) throw new Error('@zeit/cosmosdb-query has no `code` getter to make linear; its version changed.');
  libraryCode = get;
  // Rewritten once per compiled query, as the library compiles once (the server keeps its queries).
  const rewritten = new WeakMap<CompiledQuery, string>();
  Object.defineProperty(proto, 'code', {
    ...compiled,
    get(this: CompiledQuery): string {
      let code = rewritten.get(this);
      if (code === undefined) rewritten.set(this, (code = linearFrom(get.call(this))));
      return code;
    },
  });
}

/** A query's code as the library itself compiles it, rewrite installed or not (to compare the two). */
export function libraryCompiled(query: string): string {
  const { compile } = serverQueries();
  const q = compile(query);
  return libraryCode ? libraryCode.call(q) : q.code;
}
