/**
 * Supervisor and hubs: the supervisor's current findings (its verdict on every unfinished saga,
 * and the compensations it gave up on) and each consumer's lag per partition, or why that
 * number is unavailable where the console runs. Two routes, each polled every two seconds, so
 * the view asks at most once a second.
 */
import { html } from 'lit-html';
import { poll } from '../api';
import type { PollState } from '../api';
import type { HubLag, SupervisorAlerts } from '../api-types';
import type { ViewDef } from '../view';

export const view: ViewDef = {
  id: 'supervisor',
  route: 'supervisor',
  title: 'Supervisor and hubs',
  nav: { label: 'Supervisor · hubs', order: 4 },
  mount(ctx) {
    let alerts: PollState<SupervisorAlerts> = {};
    let lag: PollState<HubLag> = {};
    const a = poll<SupervisorAlerts>(
      () => 'ops/supervisor-alerts',
      (s) => ((alerts = s), ctx.update()),
      2000,
    );
    const l = poll<HubLag>(
      () => 'ops/hub-lag',
      (s) => ((lag = s), ctx.update()),
      2000,
    );
    return {
      updatedAt: () => lag.updatedAt ?? alerts.updatedAt,
      dispose: () => (a.stop(), l.stop()),
      render() {
        const findings = alerts.data?.findings ?? [];
        const stuck = alerts.data?.stuckCompensations ?? [];
        const hub = lag.data;
        return html`<div class="grid cols-even">
          <section class="panel" data-testid="supervisor-alerts">
            <h2>Supervisor findings <span class="muted">· what its next run would do</span></h2>
            ${alerts.error ? html`<p class="error">${alerts.error}</p>` : ''}
            ${findings.length === 0 && alerts.data ? html`<p class="muted">No unfinished saga needs the supervisor.</p>` : ''}
            <table>
              <thead>
                <tr>
                  <th>Delivery</th>
                  <th>Status</th>
                  <th>Stage</th>
                  <th>Action</th>
                  <th>Reason</th>
                </tr>
              </thead>
              <tbody>
                ${findings.map(
                  (f) =>
                    html`<tr data-testid="finding" data-action=${f.action}>
                      <td><a href="#/deliveries/${encodeURIComponent(f.deliveryId)}">${f.deliveryId}</a></td>
                      <td>${f.runtimeStatus}</td>
                      <td>${f.stage ?? '—'}</td>
                      <td><span class="badge ${f.action === 'alert' ? 'stuck' : 'late'}">${f.action}</span></td>
                      <td style="white-space:normal">${f.reason}</td>
                    </tr>`,
                )}
              </tbody>
            </table>
            <h2 style="margin-top:14px">Compensations given up <span class="muted">(CompensationStuck)</span></h2>
            ${
              stuck.length
                ? html`<ul>
                    ${stuck.map((id) => html`<li><a href="#/deliveries/${encodeURIComponent(id)}">${id}</a></li>`)}
                  </ul>`
                : html`<p class="muted">None.</p>`
            }
          </section>
          <section class="panel" data-testid="hub-lag">
            <h2>Hub lag per partition</h2>
            ${lag.error ? html`<p class="error">${lag.error}</p>` : ''}
            ${hub && !hub.available ? html`<p class="muted" data-testid="hub-lag-unavailable">Unavailable: ${hub.reason}</p>` : ''}
            ${
              hub && hub.available
                ? hub.consumers.map((c) => {
                    const max = Math.max(1, ...c.partitions.map((p) => p.lag));
                    return html`<h2>${c.hub} <span class="muted">· ${c.consumerGroup} · ${c.totalLag} behind</span></h2>
                      <table>
                        <thead>
                          <tr>
                            <th>Partition</th>
                            <th class="num">Last enqueued</th>
                            <th class="num">Checkpoint</th>
                            <th class="num">Lag</th>
                            <th></th>
                          </tr>
                        </thead>
                        <tbody>
                          ${c.partitions.map(
                            (p) =>
                              html`<tr
                                data-testid="hub-partition"
                                data-hub=${c.hub}
                                data-partition=${p.partitionId}
                                data-lag=${p.lag}
                              >
                                <td>${p.partitionId}</td>
                                <td class="num">${p.lastEnqueuedSequenceNumber}</td>
                                <td class="num">${p.checkpointSequenceNumber ?? '—'}</td>
                                <td class="num">${p.lag}</td>
                                <td>
                                  <span class="bar"
                                    ><i
                                      style="width:${(100 * p.lag) / max}%;background:${p.lag > 0 ? '#d29922' : '#3fb950'}"
                                    ></i
                                  ></span>
                                </td>
                              </tr>`,
                          )}
                        </tbody>
                      </table>`;
                  })
                : ''
            }
          </section>
        </div>`;
      },
    };
  },
};
