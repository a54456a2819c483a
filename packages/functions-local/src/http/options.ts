/**
 * What the HTTP host needs from the app it serves and cannot read from the registrations: how a
 * caller is written into request headers (the dev principal) and what an error response looks
 * like. The app's launcher passes its own; the defaults are plain and app-neutral.
 */
import type { HttpResponseInit } from '@azure/functions';

/** Who a request is from: an id and its roles. */
export interface Principal {
  readonly id: string;
  readonly roles: readonly string[];
}

/** One field's complaint in a problem response. */
export interface FieldProblem {
  readonly path: string;
  readonly message: string;
}

/** Builds an error response; `slug` names the kind of problem (`not-found`, `payload-too-large`, …). */
export type ProblemResponder = (
  status: number,
  slug: string,
  title: string,
  detail: string,
  extra?: { errors?: readonly FieldProblem[]; headers?: Record<string, string> },
) => HttpResponseInit;

/** The headers that say who a request is from, as the app expects them behind its front door. */
export type PrincipalHeaders = (principal: Principal) => Record<string, string>;

/** RFC 9457 problem details with no app-specific type URIs. */
export const plainProblem: ProblemResponder = (status, slug, title, detail, extra = {}) => ({
  status,
  headers: { 'content-type': 'application/problem+json', ...extra.headers },
  body: JSON.stringify({
    type: `about:blank#${slug}`,
    title,
    status,
    detail,
    ...(extra.errors ? { errors: extra.errors } : {}),
  }),
});

/** App Service Authentication's identity headers without claims: enough for an app that reads the id only. */
export const plainPrincipalHeaders: PrincipalHeaders = (p) => ({
  'x-ms-client-principal-id': p.id,
  'x-ms-client-principal-name': p.id,
});
