/**
 * The Data Lake stand-in's refusals and how they are written: the dfs API answers with a JSON
 * error body, the blob API with XML, both with `x-ms-error-code` (server.ts sets the headers).
 */
import type { Api } from './paths';

export class LakeError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** The error body in the format of the API the request belongs to. */
export function errorBody(err: LakeError, api: Api, requestId: string): Buffer {
  const message = `${err.message}\nRequestId:${requestId}\nTime:${new Date().toISOString()}`;
  return api === 'dfs'
    ? Buffer.from(JSON.stringify({ error: { code: err.code, message } }))
    : Buffer.from(
        `<?xml version="1.0" encoding="utf-8"?><Error><Code>${err.code}</Code><Message>${escapeXml(message)}</Message></Error>`,
      );
}

export function errorContentType(api: Api): string {
  return api === 'dfs' ? 'application/json;charset=utf-8' : 'application/xml';
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
