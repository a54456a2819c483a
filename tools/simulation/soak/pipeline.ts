/**
 * How the soak simulator reaches the pipeline: its HTTP API (principal headers locally, a
 * bearer token in Azure), and the retry, as devices and apps do, while it cannot be reached.
 */
import { DefaultAzureCredential } from '@azure/identity';
import { principalHeaders } from '../../../functions/http/identity';
import type { Options } from './options';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** HTTP to the pipeline's API: principal headers locally, a bearer token in Azure. */
export class Api {
  #token: { value: string; expires: number } | undefined;
  readonly #credential = new DefaultAzureCredential();

  constructor(private readonly o: Options) {}

  async headers(ownerId: string, roles: readonly string[] = []): Promise<Record<string, string>> {
    if (this.o.target === 'local') return principalHeaders({ id: ownerId, roles: [...roles] });
    if (!this.#token || this.#token.expires - Date.now() < 60_000) {
      const t = await this.#credential.getToken(this.o.scope ?? '');
      if (!t) throw new Error(`No token for ${this.o.scope}.`);
      this.#token = { value: t.token, expires: t.expiresOnTimestamp };
    }
    return { authorization: `Bearer ${this.#token.value}` };
  }

  async call(
    method: string,
    route: string,
    ownerId: string,
    body?: unknown,
    roles: readonly string[] = [],
  ): Promise<{ status: number; headers: Headers; json: unknown }> {
    const headers = {
      ...(await this.headers(ownerId, roles)),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    };
    // Every call the simulator makes is safe to repeat (same delivery id, same body).
    const res = await whileUnreachable(() =>
      fetch(`${this.o.url}${route}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      }),
    );
    const text = await res.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : (JSON.parse(text) as unknown);
    } catch {
      json = text;
    }
    return { status: res.status, headers: res.headers, json };
  }
}

/** How long a drone or a customer keeps trying while the pipeline cannot be reached (a restart). */
const UNREACHABLE_PATIENCE_MS = 120_000;

/**
 * Runs `call` again while the pipeline cannot be reached (connection refused or reset, as while
 * it restarts), as devices and apps do; any answer, and any other error, goes to the caller.
 */
export async function whileUnreachable<T>(call: () => Promise<T>): Promise<T> {
  const giveUpAt = Date.now() + UNREACHABLE_PATIENCE_MS;
  for (let wait = 200; ; wait = Math.min(wait * 2, 5_000)) {
    try {
      return await call();
    } catch (e) {
      const unreachable = /fetch failed|ECONNREFUSED|ECONNRESET|socket hang up/i.test(
        `${(e as Error).message} ${String((e as { cause?: unknown }).cause ?? '')}`,
      );
      if (!unreachable || Date.now() > giveUpAt) throw e;
      await sleep(wait);
    }
  }
}
