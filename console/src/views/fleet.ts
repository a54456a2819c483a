/**
 * Fleet: every drone on a plain SVG map of the service area (the fleet's own extent, with a
 * lat/lon grid; no tiles, nothing fetched but the API), coloured by status, with a battery
 * bar, and greyed out once stale (its last report older than DroneFreshnessMinutes). Polls
 * GET /api/ops/drones.
 */
import { html, svg } from 'lit-html';
import type { SVGTemplateResult } from 'lit-html';
import { poll } from '../api';
import type { PollState } from '../api';
import type { Drone, Fleet } from '../api-types';
import { ago } from '../format';
import type { ViewDef } from '../view';

const W = 760;
const H = 560;
const PAD = 36;

export const STATUS_COLOURS: Readonly<Record<string, string>> = {
  Idle: '#3fb950',
  EnRouteToPickup: '#4aa3ff',
  PickedUp: '#a371f7',
  EnRouteToDropoff: '#db61a2',
  Delivered: '#56d4dd',
  Returning: '#d29922',
  Charging: '#e3b341',
  Fault: '#f85149',
};
const STALE = '#6e7681';

interface Frame {
  readonly x: (lon: number) => number;
  readonly y: (lat: number) => number;
  readonly grid: SVGTemplateResult[];
}

/** An equirectangular frame around the fleet (at least ~2 km across), corrected for latitude. */
function frameOf(drones: readonly Drone[]): Frame {
  const lats = drones.map((d) => d.position.lat);
  const lons = drones.map((d) => d.position.lon);
  let [minLat, maxLat] = lats.length ? [Math.min(...lats), Math.max(...lats)] : [47.55, 47.7];
  let [minLon, maxLon] = lons.length ? [Math.min(...lons), Math.max(...lons)] : [-122.3, -122.05];
  const midLat = (minLat + maxLat) / 2;
  const k = Math.cos((midLat * Math.PI) / 180);
  const span = Math.max(maxLat - minLat, (maxLon - minLon) * k, 0.02) * 1.15;
  const midLon = (minLon + maxLon) / 2;
  const aspect = (W - 2 * PAD) / (H - 2 * PAD);
  const latSpan = span;
  const lonSpan = (span * aspect) / k;
  minLat = midLat - latSpan / 2;
  maxLat = midLat + latSpan / 2;
  minLon = midLon - lonSpan / 2;
  maxLon = midLon + lonSpan / 2;
  const x = (lon: number): number => PAD + ((lon - minLon) / (maxLon - minLon)) * (W - 2 * PAD);
  const y = (lat: number): number => H - PAD - ((lat - minLat) / (maxLat - minLat)) * (H - 2 * PAD);
  const step = [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1].find((s) => latSpan / s <= 8) ?? 1;
  const grid: SVGTemplateResult[] = [];
  for (let lat = Math.ceil(minLat / step) * step; lat <= maxLat; lat += step) {
    grid.push(
      svg`<line x1=${PAD} x2=${W - PAD} y1=${y(lat)} y2=${y(lat)} stroke="#22303d" /><text x=${4} y=${y(lat) + 4}>${lat.toFixed(3)}</text>`,
    );
  }
  for (let lon = Math.ceil(minLon / step) * step; lon <= maxLon; lon += step) {
    grid.push(
      svg`<line y1=${PAD} y2=${H - PAD} x1=${x(lon)} x2=${x(lon)} stroke="#22303d" /><text x=${x(lon) - 22} y=${H - 12}>${lon.toFixed(3)}</text>`,
    );
  }
  return { x, y, grid };
}

function batteryColour(pct: number): string {
  return pct >= 50 ? '#3fb950' : pct >= 30 ? '#d29922' : '#f85149';
}

function marker(d: Drone, f: Frame): SVGTemplateResult {
  const cx = f.x(d.position.lon);
  const cy = f.y(d.position.lat);
  const colour = d.stale ? STALE : (STATUS_COLOURS[d.status] ?? '#8b9bab');
  const pct = Math.max(0, Math.min(100, d.batteryPct));
  return svg`<g data-testid="drone-marker" data-drone-id=${d.droneId} data-status=${d.status} data-stale=${String(d.stale)} opacity=${d.stale ? 0.55 : 1}>
    <title>${d.droneId} · ${d.status} · ${pct.toFixed(0)}% · ${ago(d.reportedAt)}${d.stale ? ' · stale' : ''}${d.deliveryId ? ` · ${d.deliveryId}` : ''}</title>
    <circle cx=${cx} cy=${cy} r="7" fill=${colour} stroke="#0f1720" stroke-width="2" />
    <rect x=${cx - 9} y=${cy + 10} width="18" height="4" fill="#0b1117" stroke="#2a3744" stroke-width="0.5" />
    <rect x=${cx - 9} y=${cy + 10} width=${(18 * pct) / 100} height="4" fill=${d.stale ? STALE : batteryColour(pct)} />
    <text x=${cx + 10} y=${cy - 6} style="fill:${d.stale ? STALE : '#c9d1d9'}">${d.droneId}</text>
  </g>`;
}

export const view: ViewDef = {
  id: 'fleet',
  route: 'fleet',
  title: 'Fleet',
  nav: { label: 'Fleet', order: 1 },
  mount(ctx) {
    let state: PollState<Fleet> = {};
    const poller = poll<Fleet>(
      () => 'ops/drones',
      (s) => ((state = s), ctx.update()),
    );
    return {
      updatedAt: () => state.updatedAt,
      dispose: () => poller.stop(),
      render() {
        const drones = state.data?.drones ?? [];
        const f = frameOf(drones);
        const stale = drones.filter((d) => d.stale).length;
        return html`<div class="grid cols-2">
          <section class="panel">
            <h2>
              Fleet map
              <span class="muted"
                >· ${drones.length} drones · ${stale} stale (no report for ${state.data?.freshnessMinutes ?? '…'}
                min)</span
              >
            </h2>
            ${state.error ? html`<p class="error">${state.error}</p>` : ''}
            <svg data-testid="fleet-map" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="Drone positions">
              <rect x="0" y="0" width=${W} height=${H} fill="#0b1117" rx="6" />
              ${f.grid} ${drones.filter((d) => d.stale).map((d) => marker(d, f))}
              ${drones.filter((d) => !d.stale).map((d) => marker(d, f))}
            </svg>
            <div class="legend">
              ${Object.entries(STATUS_COLOURS).map(([s, c]) => html`<span><i style="background:${c}"></i>${s}</span>`)}
              <span><i style="background:${STALE}"></i>stale</span>
            </div>
          </section>
          <section class="panel">
            <h2>Drones</h2>
            <div class="scroll">
              <table data-testid="drone-table">
                <thead>
                  <tr>
                    <th>Drone</th>
                    <th>Status</th>
                    <th>Battery</th>
                    <th>Delivery</th>
                    <th>Report</th>
                  </tr>
                </thead>
                <tbody>
                  ${drones.map(
                    (d) =>
                      html`<tr class=${d.stale ? 'stale' : ''} data-testid="drone-row" data-drone-id=${d.droneId}>
                        <td>${d.droneId}${d.stale ? html`<span class="badge stale">stale</span>` : ''}</td>
                        <td>${d.status}</td>
                        <td>
                          <span class="bar"
                            ><i
                              style="width:${Math.max(0, Math.min(100, d.batteryPct))}%;background:${d.stale ? STALE : batteryColour(d.batteryPct)}"
                            ></i
                          ></span>
                          ${d.batteryPct.toFixed(0)}%
                        </td>
                        <td class="ellipsis" title=${d.deliveryId ?? ''}>
                          ${d.deliveryId ? html`<a href="#/deliveries/${encodeURIComponent(d.deliveryId)}">${d.deliveryId}</a>` : '—'}
                        </td>
                        <td class="muted">${ago(d.reportedAt)}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>
          </section>
        </div>`;
      },
    };
  },
};
