/**
 * A delivery's timeline: its event stream (the projector's store) beside the saga's durable
 * history (and its recovery's, when one ran), both on one time axis: each activity call as a
 * span (forward steps, compensations, event publishing; retries numbered), each timer and
 * retry backoff as a span, each external event (milestones, cancel, supervisor) and each
 * delivery event as a point. Below the axis both are listed in order. Polls
 * GET /api/ops/deliveries/{id}/timeline.
 */
import { html, svg } from 'lit-html';
import type { SVGTemplateResult } from 'lit-html';
import { poll } from '../api';
import type { PollState } from '../api';
import type { StreamEvent, Timeline, TimelineEntry, TimelineKind } from '../api-types';
import { duration, time } from '../format';
import type { ViewDef } from '../view';

const W = 1200;
const LABEL = 130;
const LANE = 34;

const LANES: readonly {
  readonly label: string;
  readonly kinds: readonly (TimelineKind | 'stream')[];
  readonly colour: string;
}[] = [
  { label: 'Event stream', kinds: ['stream'], colour: '#3fb950' },
  { label: 'Steps', kinds: ['step'], colour: '#4aa3ff' },
  { label: 'Compensations', kinds: ['compensation'], colour: '#d29922' },
  { label: 'Publishing', kinds: ['emit'], colour: '#a371f7' },
  { label: 'Timers, backoff', kinds: ['timer', 'retryTimer'], colour: '#8b9bab' },
  { label: 'External events', kinds: ['event'], colour: '#56d4dd' },
  { label: 'Orchestration', kinds: ['orchestration'], colour: '#e6edf3' },
];

const MILESTONE_EVENTS = new Set(['PackagePickedUp', 'DeliveryInTransit', 'DeliveryCompleted']);
const COMPENSATION_EVENTS = new Set(['DroneReleased', 'PackageCancelled']);

function axis(t: Timeline): { t0: number; t1: number } {
  const times: number[] = [];
  for (const e of t.events) times.push(Date.parse(e.occurredAt));
  for (const s of t.sagas)
    for (const e of s.entries) {
      times.push(Date.parse(e.at));
      if (e.endedAt) times.push(Date.parse(e.endedAt));
    }
  const ok = times.filter(Number.isFinite);
  const t0 = ok.length ? Math.min(...ok) : Date.now();
  const t1 = ok.length ? Math.max(...ok) : t0 + 1000;
  return { t0, t1: Math.max(t1, t0 + 1000) };
}

function chart(t: Timeline): SVGTemplateResult {
  const { t0, t1 } = axis(t);
  const x = (ms: number): number => LABEL + ((ms - t0) / (t1 - t0)) * (W - LABEL - 16);
  const height = LANES.length * LANE + 28;
  const ticks: SVGTemplateResult[] = [];
  for (let i = 0; i <= 6; i++) {
    const ms = t0 + ((t1 - t0) * i) / 6;
    ticks.push(
      svg`<line x1=${x(ms)} x2=${x(ms)} y1="0" y2=${height - 22} stroke="#22303d" /><text x=${x(ms) - 28} y=${height - 8}>+${duration(ms - t0)}</text>`,
    );
  }
  const laneOf = (kind: TimelineKind | 'stream'): number => LANES.findIndex((l) => l.kinds.includes(kind));
  const marks: SVGTemplateResult[] = [];
  t.events.forEach((e, i) => {
    const y = laneOf('stream') * LANE + 8 + (i % 3) * 7;
    const colour = COMPENSATION_EVENTS.has(e.type) ? '#d29922' : MILESTONE_EVENTS.has(e.type) ? '#56d4dd' : '#3fb950';
    marks.push(
      svg`<g data-testid="axis-event"><title>#${e.sequence} ${e.type} · ${time(e.occurredAt)}</title><circle cx=${x(Date.parse(e.occurredAt))} cy=${y + 4} r="4" fill=${colour} /></g>`,
    );
  });
  let i = 0;
  for (const s of t.sagas) {
    for (const e of s.entries) {
      const lane = laneOf(e.kind);
      const colour = e.outcome === 'failed' ? '#f85149' : (LANES[lane]?.colour ?? '#8b9bab');
      const y = lane * LANE + 6 + (i++ % 3) * 8;
      const start = x(Date.parse(e.at));
      const end = e.endedAt ? x(Date.parse(e.endedAt)) : x(t1);
      const label = `${e.name}${e.attempt && e.attempt > 1 ? ` (attempt ${e.attempt})` : ''} · ${e.outcome ?? ''} · ${time(e.at)}${e.endedAt ? `–${time(e.endedAt)}` : ''}${e.detail ? ` · ${e.detail}` : ''}`;
      marks.push(
        e.endedAt || e.outcome === 'open'
          ? svg`<g><title>${label}</title><rect x=${start} y=${y} width=${Math.max(3, end - start)} height="6" rx="2" fill=${colour} opacity=${e.outcome === 'open' ? 0.45 : 0.9} /></g>`
          : svg`<g><title>${label}</title><rect x=${start - 1.5} y=${y - 2} width="3" height="10" fill=${colour} /></g>`,
      );
    }
  }
  return svg`<svg data-testid="timeline-axis" viewBox="0 0 ${W} ${height}" width="100%">
    ${LANES.map((l, n) => svg`<rect x="0" y=${n * LANE} width=${W} height=${LANE} fill=${n % 2 ? '#131c25' : '#0f1720'} /><text x="6" y=${n * LANE + 20}>${l.label}</text>`)}
    ${ticks}
    ${marks}
  </svg>`;
}

function streamItem(e: StreamEvent) {
  const cls = COMPENSATION_EVENTS.has(e.type) ? 'kind-compensation' : MILESTONE_EVENTS.has(e.type) ? 'kind-event' : '';
  return html`<li data-testid="stream-event" data-type=${e.type} value=${e.sequence}>
    <span class="t">${time(e.occurredAt)}</span><span class=${cls}>${e.type}</span>
  </li>`;
}

const TERMINAL = new Set(['Completed', 'Failed', 'Terminated']);

/** `done`: the orchestration has ended, so a span still open was abandoned (a timer that lost its race), not pending. */
function historyItem(e: TimelineEntry, done: boolean) {
  return html`<li data-testid="history-entry" data-kind=${e.kind} data-name=${e.name} data-outcome=${e.outcome ?? ''}>
    <span class="t">${time(e.at)}</span
    ><span class="kind-${e.kind}">${e.kind === 'compensation' ? 'compensation ' : ''}${e.name}</span>
    ${e.attempt && e.attempt > 1 ? html`<span class="badge late">attempt ${e.attempt}</span>` : ''}
    ${e.outcome === 'failed' ? html`<span class="badge failed">failed</span>` : e.outcome === 'open' ? html`<span class="badge">${done ? 'not fired' : 'open'}</span>` : ''}
    ${e.detail ? html`<span class="muted"> ${e.detail}</span>` : ''}
    ${e.endedAt ? html`<span class="muted"> · ${duration(Date.parse(e.endedAt) - Date.parse(e.at))}</span>` : ''}
  </li>`;
}

export const view: ViewDef = {
  id: 'timeline',
  route: 'deliveries/:deliveryId',
  title: 'Delivery timeline',
  deliveryTab: { label: 'Timeline', order: 1 },
  mount(ctx) {
    let state: PollState<Timeline> = {};
    const id = ctx.params.deliveryId ?? '';
    const poller = poll<Timeline>(
      () => `ops/deliveries/${encodeURIComponent(id)}/timeline`,
      (s) => ((state = s), ctx.update()),
    );
    return {
      updatedAt: () => state.updatedAt,
      dispose: () => poller.stop(),
      render() {
        const t = state.data;
        if (!t) return html`<p class=${state.error ? 'error' : 'muted'}>${state.error ?? 'Loading…'}</p>`;
        const compensations = t.sagas.flatMap((s) => s.entries).filter((e) => e.kind === 'compensation');
        return html`<section class="panel" style="margin-bottom:16px">
            <h2>
              Time axis
              <span class="muted"
                >· ${t.events.length} events ·
                ${t.sagas.map((s) => `${s.instanceId}: ${s.runtimeStatus}`).join(' · ') || 'no saga found'}${compensations.length ? ` · ${compensations.length} compensation calls` : ''}</span
              >
            </h2>
            ${chart(t)}
          </section>
          <div class="grid cols-even">
            <section class="panel">
              <h2>Event stream</h2>
              <ol class="stream" data-testid="event-stream">
                ${t.events.map(streamItem)}
              </ol>
            </section>
            <section class="panel">
              ${t.sagas.map(
                (s) =>
                  html`<h2>
                      Durable history · ${s.instanceId}
                      <span class="muted" data-testid="saga-status" data-instance=${s.instanceId}
                        >${s.runtimeStatus}</span
                      >
                    </h2>
                    <ol class="stream" data-testid="durable-history" data-instance=${s.instanceId}>
                      ${s.entries.map((e) => historyItem(e, TERMINAL.has(s.runtimeStatus)))}
                    </ol>`,
              )}
              ${t.sagas.length === 0 ? html`<p class="muted">No orchestration with this id.</p>` : ''}
            </section>
          </div>`;
      },
    };
  },
};
