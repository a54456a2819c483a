/**
 * Deliveries: counts per stage (a tile each; clicking one filters), the list of the chosen
 * stage with a text filter on delivery, drone and owner, late and stuck ones marked. The stage
 * filter goes to the server (`?status=`), the text filter stays in the page. Polls
 * GET /api/ops/deliveries.
 */
import { html } from 'lit-html';
import { poll } from '../api';
import type { PollState } from '../api';
import { STAGES } from '../api-types';
import type { Deliveries, Stage } from '../api-types';
import { ago, duration } from '../format';
import type { ViewDef } from '../view';

export const view: ViewDef = {
  id: 'deliveries',
  route: 'deliveries',
  title: 'Deliveries',
  nav: { label: 'Deliveries', order: 2 },
  mount(ctx) {
    let state: PollState<Deliveries> = {};
    let stage: Stage | undefined;
    let text = '';
    const poller = poll<Deliveries>(
      () => `ops/deliveries${stage ? `?status=${stage}` : ''}`,
      (s) => ((state = s), ctx.update()),
    );
    const choose = (s: Stage | undefined): void => {
      stage = s;
      poller.refresh();
      ctx.update();
    };
    return {
      updatedAt: () => state.updatedAt,
      dispose: () => poller.stop(),
      render() {
        const counts = state.data?.counts;
        const needle = text.trim().toLowerCase();
        const rows = (state.data?.deliveries ?? []).filter(
          (d) =>
            (!stage || d.stage === stage) &&
            (needle === '' || [d.deliveryId, d.droneId ?? '', d.ownerId].some((v) => v.toLowerCase().includes(needle))),
        );
        const late = rows.filter((d) => d.late).length;
        const stuck = rows.filter((d) => d.stuck).length;
        return html`<div class="tiles">
            <button
              class="tile ${stage === undefined ? 'active' : ''}"
              data-testid="stage-all"
              @click=${() => choose(undefined)}
            >
              <span class="muted">All</span><b>${counts ? Object.values(counts).reduce((a, b) => a + b, 0) : '…'}</b>
            </button>
            ${STAGES.map(
              (s) =>
                html`<button
                  class="tile ${stage === s ? 'active' : ''}"
                  data-testid="stage-count"
                  data-stage=${s}
                  @click=${() => choose(s)}
                >
                  <span class="muted">${s}</span><b>${counts ? counts[s] : '…'}</b>
                </button>`,
            )}
          </div>
          <section class="panel">
            <div class="filters">
              <select
                data-testid="stage-filter"
                @change=${(e: Event) => choose(((e.target as HTMLSelectElement).value || undefined) as Stage | undefined)}
              >
                <option value="" ?selected=${stage === undefined}>every stage</option>
                ${STAGES.map((s) => html`<option value=${s} ?selected=${stage === s}>${s}</option>`)}
              </select>
              <input
                data-testid="text-filter"
                placeholder="delivery, drone or owner"
                .value=${text}
                @input=${(e: Event) => ((text = (e.target as HTMLInputElement).value), ctx.update())}
              />
              <span class="muted"
                >${rows.length} shown · <span class="badge late">late</span> ${late} ·
                <span class="badge stuck">stuck</span> ${stuck}</span
              >
            </div>
            ${state.error ? html`<p class="error">${state.error}</p>` : ''}
            <div class="scroll">
              <table data-testid="delivery-table">
                <thead>
                  <tr>
                    <th>Delivery</th>
                    <th>Stage</th>
                    <th>Drone</th>
                    <th>Owner</th>
                    <th class="num">Events</th>
                    <th>Last change</th>
                    <th>Idle</th>
                    <th>Marks</th>
                  </tr>
                </thead>
                <tbody>
                  ${rows.map(
                    (d) =>
                      html`<tr
                        class="clickable"
                        data-testid="delivery-row"
                        data-delivery-id=${d.deliveryId}
                        data-stage=${d.stage}
                        @click=${() => ctx.navigate(`#/deliveries/${encodeURIComponent(d.deliveryId)}`)}
                      >
                        <td><a href="#/deliveries/${encodeURIComponent(d.deliveryId)}">${d.deliveryId}</a></td>
                        <td>
                          ${d.stage}${d.failureReason ? html` <span class="muted" title=${d.failureReason}>(${d.failureReason.slice(0, 40)})</span>` : ''}
                        </td>
                        <td>${d.droneId ?? '—'}</td>
                        <td class="muted">${d.ownerId}</td>
                        <td class="num">${d.version}</td>
                        <td class="muted">${ago(d.updatedAt)}</td>
                        <td class="muted">${duration(d.idleMs)}</td>
                        <td>
                          ${d.stuck ? html`<span class="badge stuck" data-testid="mark-stuck">stuck</span>` : d.late ? html`<span class="badge late" data-testid="mark-late">late</span>` : ''}
                        </td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>
            ${state.data?.truncated ? html`<p class="muted">Only the first 2000 deliveries are listed.</p>` : ''}
          </section>`;
      },
    };
  },
};
