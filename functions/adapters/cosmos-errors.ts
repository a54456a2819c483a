/** The HTTP status of a Cosmos DB SDK error, for the few statuses adapters treat as outcomes. */
export function cosmosStatus(e: unknown): number | undefined {
  if (!e || typeof e !== 'object') return undefined;
  const o = e as { code?: unknown; statusCode?: unknown };
  const v = typeof o.code === 'number' ? o.code : o.statusCode;
  return typeof v === 'number' ? v : undefined;
}

export const isConflict = (e: unknown): boolean => cosmosStatus(e) === 409;
export const isPreconditionFailed = (e: unknown): boolean => cosmosStatus(e) === 412;
export const isNotFound = (e: unknown): boolean => cosmosStatus(e) === 404;
