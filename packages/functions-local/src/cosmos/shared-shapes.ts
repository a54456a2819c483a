/**
 * Documents on the Cosmos DB stand-in that share hidden classes, so a query reads them at full speed.
 *
 * `@vercel/cosmosdb-server` stores each document as `{ ...body, id, _etag, _rid, _self, _ts }`.
 * On Node 20 (V8 11.3) an object spread of a parsed body, then grown by those system fields,
 * gets a map of its own: no two stored documents share one, however alike they are (checked
 * with `%HaveSameMap`; Node 22 shares them). A query's compiled filter then reads every field
 * through a megamorphic inline cache. Measured side by side on Node 20 (`npm run bench`, the
 * row on the stand-in's shapes): the supervisor's three intake queries over 15,000 records took
 * 22.75 ms built as the server built them, 4.07 ms built field by field.
 * `installSharedShapes` makes the server store each document as a copy built
 * field by field, in the same order and with the same values, which follows V8's shared
 * transitions. What the server answers is unchanged (`test/integration/local/shared-shapes.test.ts`).
 */
import { createRequire } from 'node:module';

interface ItemsPrototype {
  _set(this: unknown, data: Record<string, unknown>): Record<string, unknown>;
}

/** Marks the server's store as wrapped, whichever copy of this module wrapped it. */
const WRAPPED = Symbol.for('fabrikam.sharedShapes');

/**
 * The same fields, in the same order, with the same values, on an object that shares its map
 * with its likes. A parsed body's own `__proto__` field is kept as a field (assigning it would
 * set the copy's prototype instead); such a document is left as it was.
 */
export function sharedShape(doc: Record<string, unknown>): Record<string, unknown> {
  if (Object.prototype.hasOwnProperty.call(doc, '__proto__')) return doc;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(doc)) copy[key] = doc[key];
  return copy;
}

/**
 * Makes the `@vercel/cosmosdb-server` that this process loads store every document it writes
 * (create, replace, upsert, patch) through `sharedShape`. Idempotent; call it in the thread that
 * runs the server, before it serves.
 */
export function installSharedShapes(): void {
  const items = serverItems();
  const store = items._set as ItemsPrototype['_set'] & { [WRAPPED]?: true };
  if (typeof store !== 'function')
    throw new Error('@vercel/cosmosdb-server has no Items._set to store documents through; its version changed.');
  if (store[WRAPPED]) return;
  const wrapped = function (this: unknown, data: Record<string, unknown>) {
    return store.call(this, sharedShape(data));
  };
  items._set = Object.assign(wrapped, { [WRAPPED]: true as const });
}

/** Whether this process's server stores documents through `sharedShape`. */
export function sharedShapesInstalled(): boolean {
  return (serverItems()._set as { [WRAPPED]?: true })[WRAPPED] === true;
}

/** The item store of the `@vercel/cosmosdb-server` that this process loads. */
function serverItems(): ItemsPrototype {
  const fromServer = createRequire(require.resolve('@vercel/cosmosdb-server'));
  return (fromServer('@vercel/cosmosdb-server/lib/account/items') as { default: { prototype: ItemsPrototype } }).default
    .prototype;
}
