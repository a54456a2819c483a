/**
 * The app's one reading of Cosmos DB SDK errors: the HTTP status of an error, for the few
 * statuses adapters treat as outcomes rather than failures. Every Cosmos adapter (and any tool
 * that talks to Cosmos) asks here instead of reading `code`/`statusCode` itself.
 */
function cosmosStatus(e: unknown): number | undefined {
  if (!e || typeof e !== 'object') return undefined;
  const o = e as { code?: unknown; statusCode?: unknown };
  const v = typeof o.code === 'number' ? o.code : o.statusCode;
  return typeof v === 'number' ? v : undefined;
}

export const isConflict = (e: unknown): boolean => cosmosStatus(e) === 409;
export const isPreconditionFailed = (e: unknown): boolean => cosmosStatus(e) === 412;
export const isNotFound = (e: unknown): boolean => cosmosStatus(e) === 404;

/** A conditional write lost to another writer: created meanwhile (409) or replaced meanwhile (412). */
export const isConcurrentWrite = (e: unknown): boolean => isConflict(e) || isPreconditionFailed(e);
