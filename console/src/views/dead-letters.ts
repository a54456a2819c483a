/**
 * Dead letters: each record's reason, field errors, Event Hubs metadata and raw body, with a
 * replay button for an admin (POST /api/ops/dead-letters/replay, idempotent: a second replay
 * reports the first). Polls GET /api/ops/dead-letters every five seconds.
 */
import { html } from 'lit-html';
import { poll, postJson } from '../api';
import type { PollState } from '../api';
import type { DeadLetter, DeadLetters, ReplayResult } from '../api-types';
import { ago } from '../format';
import type { ViewDef } from '../view';

/** Dead letters arrive rarely and the list reads many records: every five seconds is live enough. */
const DEAD_LETTER_POLL_MS = 5000;

function body(d: DeadLetter): string {
  if (d.bodyEncoding === 'base64') return `(base64) ${d.body}`;
  try {
    return JSON.stringify(JSON.parse(d.body), null, 2);
  } catch {
    return d.body;
  }
}

export const view: ViewDef = {
  id: 'dead-letters',
  route: 'dead-letters',
  title: 'Dead letters',
  nav: { label: 'Dead letters', order: 3 },
  mount(ctx) {
    let state: PollState<DeadLetters> = {};
    let reason = '';
    const results = new Map<string, string>();
    const busy = new Set<string>();
    const poller = poll<DeadLetters>(
      () => `ops/dead-letters${reason ? `?reason=${encodeURIComponent(reason)}` : ''}`,
      (s) => ((state = s), ctx.update()),
      DEAD_LETTER_POLL_MS,
    );
    const replay = async (id: string): Promise<void> => {
      busy.add(id);
      ctx.update();
      try {
        const r = await postJson<ReplayResult>('ops/dead-letters/replay', { id });
        results.set(
          id,
          r.outcome === 'replayed' ? `Replayed to ${r.hub}.` : `Already replayed to ${r.hub} at ${r.at}.`,
        );
      } catch (e) {
        results.set(id, e instanceof Error ? e.message : String(e));
      } finally {
        busy.delete(id);
        poller.refresh();
        ctx.update();
      }
    };
    return {
      updatedAt: () => state.updatedAt,
      dispose: () => poller.stop(),
      render() {
        const letters = state.data?.deadLetters ?? [];
        return html`<section class="panel">
          <div class="filters">
            <select @change=${(e: Event) => ((reason = (e.target as HTMLSelectElement).value), poller.refresh())}>
              <option value="">every reason</option>
              ${['NotJson', 'BodyTooLarge', 'SchemaViolation', 'UnsupportedSchemaVersion', 'RetriesExhausted'].map((r) => html`<option value=${r}>${r}</option>`)}
            </select>
            <span class="muted"
              >${letters.length} records · ${letters.filter((l) => l.replayedAt).length} replayed</span
            >
          </div>
          ${state.error ? html`<p class="error">${state.error}</p>` : ''}
          ${letters.length === 0 && state.data ? html`<p class="muted">No dead letters.</p>` : ''}
          <div class="scroll" style="max-height:none">
            ${letters.map(
              (d) =>
                html`<article
                  class="card"
                  data-testid="dead-letter"
                  data-id=${d.id}
                  data-reason=${d.reason}
                  data-replayed=${String(Boolean(d.replayedAt))}
                >
                  <div class="grid cols-even">
                    <div>
                      <strong>${d.reason}</strong>
                      <span class="muted">from ${d.source} · ${ago(d.deadLetteredAt)}</span>
                      ${d.replayedAt ? html`<span class="badge ok" data-testid="replayed-badge">replayed to ${d.replayedTo ?? '?'}</span>` : ''}
                      <dl class="kv">
                        ${Object.entries(d.origin).map(
                          ([k, v]) =>
                            html`<dt>${k}</dt>
                              <dd>${String(v)}</dd>`,
                        )}
                      </dl>
                      ${
                        d.errors.length
                          ? html`<ul>
                              ${d.errors.map((e) => html`<li><code>${e.path}</code> ${e.message}</li>`)}
                            </ul>`
                          : ''
                      }
                      ${d.lastError ? html`<p class="muted">last error: ${d.lastError}</p>` : ''}
                      <p>
                        <button
                          data-testid="replay"
                          ?disabled=${busy.has(d.id) || Boolean(d.replayedAt)}
                          @click=${() => void replay(d.id)}
                        >
                          ${d.replayedAt ? 'Replayed' : 'Replay'}
                        </button>
                        <span data-testid="replay-result">${results.get(d.id) ?? ''}</span>
                      </p>
                    </div>
                    <pre>${body(d)}</pre>
                  </div>
                </article>`,
            )}
          </div>
        </section>`;
      },
    };
  },
};
