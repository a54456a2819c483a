/**
 * Expected failures are values with a stable `code`; the HTTP edge maps codes to problem+json.
 * Bugs throw; these do not.
 */
export type FieldError = { readonly path: string; readonly message: string };

export type DomainError =
  | { readonly code: 'ValidationFailed'; readonly message: string; readonly errors: readonly FieldError[] }
  | { readonly code: 'NotFound'; readonly message: string }
  | { readonly code: 'Conflict'; readonly message: string }
  | { readonly code: 'Unauthenticated'; readonly message: string }
  | { readonly code: 'Forbidden'; readonly message: string }
  | { readonly code: 'Throttled'; readonly message: string; readonly retryAfterSeconds: number }
  | { readonly code: 'DependencyUnavailable'; readonly message: string };

export type Result<T, E = DomainError> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

export const ok = <T>(value: T): { readonly ok: true; readonly value: T } => ({ ok: true, value });
export const err = <E>(error: E): { readonly ok: false; readonly error: E } => ({ ok: false, error });

export function validationFailed(message: string, errors: readonly FieldError[]): DomainError {
  return { code: 'ValidationFailed', message, errors };
}

/** Compile-time proof that a switch over a union handled every member. */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`Unhandled ${what}: ${JSON.stringify(value)}`);
}
