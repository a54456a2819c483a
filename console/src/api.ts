/**
 * Talking to the app's own HTTP API, same origin only (`/api/...`; the browser sends the
 * sign-in cookie in Azure, the local runtime adds its dev principal). Live views poll with
 * ETags: each poller sends If-None-Match, gets 304 while nothing changed, waits for one answer
 * before asking again, keeps at least its interval (never under a second) between requests,
 * and pauses while the tab is hidden. A view that polls two routes gives each twice the
 * interval, so a view never asks more than once a second.
 */
import type { Problem } from './api-types';

export const MIN_INTERVAL_MS = 1000;

/** Counters the browser tests read (window.__consoleStats): requests made and 304s received. */
export const stats = { requests: 0, notModified: 0, byPath: {} as Record<string, number> };
(globalThis as { __consoleStats?: typeof stats }).__consoleStats = stats;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function problemOf(res: Response): Promise<ApiError> {
  const text = await res.text();
  try {
    const p = JSON.parse(text) as Problem;
    return new ApiError(res.status, `${p.title} ${p.detail}`);
  } catch {
    return new ApiError(res.status, `${res.status} ${text.slice(0, 200)}`);
  }
}

export async function postJson<T>(path: string, body: unknown): Promise<T> {
  stats.requests++;
  const res = await fetch(`/api/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
    credentials: 'same-origin',
  });
  if (!res.ok) throw await problemOf(res);
  return (await res.json()) as T;
}

export interface PollState<T> {
  readonly data?: T;
  readonly error?: string;
  readonly updatedAt?: Date;
}

export interface Poller {
  /** Ask now (after an action), still one request at a time. */
  refresh(): void;
  stop(): void;
}

export function poll<T>(
  path: () => string,
  onChange: (state: PollState<T>) => void,
  intervalMs = MIN_INTERVAL_MS,
): Poller {
  const interval = Math.max(MIN_INTERVAL_MS, intervalMs);
  let etag: string | undefined;
  let lastPath: string | undefined;
  let state: PollState<T> = {};
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight = false;
  let again = false;
  let stopped = false;
  let lastStart = 0;

  const schedule = (delay: number): void => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(tick, delay);
  };

  async function tick(): Promise<void> {
    if (stopped) return;
    if (document.hidden) return; // visibilitychange resumes it
    if (inFlight) {
      again = true;
      return;
    }
    const wait = lastStart + interval - Date.now();
    if (wait > 0) return schedule(wait);
    inFlight = true;
    lastStart = Date.now();
    const p = path();
    if (p !== lastPath) etag = undefined;
    lastPath = p;
    stats.requests++;
    stats.byPath[p] = (stats.byPath[p] ?? 0) + 1;
    try {
      const res = await fetch(`/api/${p}`, {
        headers: { accept: 'application/json', ...(etag ? { 'if-none-match': etag } : {}) },
        credentials: 'same-origin',
      });
      if (res.status === 304) {
        stats.notModified++;
        state = { ...state, updatedAt: new Date() };
        delete (state as { error?: string }).error;
      } else if (res.ok) {
        etag = res.headers.get('etag') ?? undefined;
        state = { data: (await res.json()) as T, updatedAt: new Date() };
      } else {
        state = { ...state, error: (await problemOf(res)).message };
      }
    } catch (e) {
      state = { ...state, error: e instanceof Error ? e.message : String(e) };
    } finally {
      inFlight = false;
    }
    if (!stopped) onChange(state);
    const next = again ? 0 : interval;
    again = false;
    schedule(next);
  }

  const onVisibility = (): void => {
    if (!document.hidden) schedule(0);
  };
  document.addEventListener('visibilitychange', onVisibility);
  schedule(0);
  return {
    refresh: () => schedule(0),
    stop: () => {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisibility);
    },
  };
}
