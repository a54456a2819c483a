/**
 * `npm run report -- --from <ISO> --to <ISO> [--out report.svg] [--json]`: the delivery report
 * from the Capture archive (functions/ops/delivery-report.ts), printed as text (or JSON), with
 * the deliveries-per-hour chart written as SVG. Everything the process touches comes in through
 * `ReportIo`, so tests run the command as it is, in process.
 */
import fs from 'node:fs';
import path from 'node:path';
import { checkReportRange } from '../../domain/delivery/report';
import type { DeliveryReport } from '../../domain/delivery/report';
import { Composition } from '../../functions/composition';
import { parseConfig } from '../../functions/config';
import { countingFiles, reportFromArchive } from '../../functions/ops/delivery-report';
import { reportSvg } from '../../functions/ops/report-chart';
import { parseFlags } from '../settings';

export const USAGE = `usage: npm run report -- --from <ISO-8601 UTC> --to <ISO-8601 UTC> [--out <file.svg>] [--json]
  Reads the archived delivery events of [from, to) from the Capture files in the lake and prints
  the on-time rate, request-to-delivered p50/p95/p99, failures by reason and compensations per
  step for the deliveries requested in the range. Writes deliveries per hour by outcome as an
  SVG chart to --out (default report.svg). --json prints the report as JSON instead of text.`;

export interface ReportIo {
  readonly settings: Record<string, string | undefined>;
  readonly cwd: string;
  readonly out: (line: string) => void;
  /** Progress and errors. */
  readonly err: (line: string) => void;
  /** Reuse an existing composition (tests); by default one is built from `settings`. */
  readonly composition?: Composition;
}

const ms = (v: number | null): string =>
  v === null
    ? 'n/a'
    : v < 1000
      ? `${v} ms`
      : v < 120_000
        ? `${(v / 1000).toFixed(1)} s`
        : `${(v / 60_000).toFixed(1)} min`;

export function reportText(r: DeliveryReport): string[] {
  const rate = r.onTime.rate === null ? 'n/a' : `${(r.onTime.rate * 100).toFixed(1)}%`;
  const lines = [
    `Delivery report ${r.range.from} to ${r.range.to}`,
    `  events read ${r.eventsRead} (duplicates ${r.duplicates}); deliveries requested ${r.deliveries}`,
    `  outcomes: delivered ${r.outcomes.delivered}, failed ${r.outcomes.failed}, cancelled ${r.outcomes.cancelled}, in flight ${r.outcomes.inFlight}`,
    `  on time: ${rate} (${r.onTime.onTime} on time, ${r.onTime.late} late, ${r.onTime.unknown} with no deadline or ETA)`,
    `  request to delivered (${r.requestToDeliveredMs.count}): p50 ${ms(r.requestToDeliveredMs.p50)}, p95 ${ms(r.requestToDeliveredMs.p95)}, p99 ${ms(r.requestToDeliveredMs.p99)}`,
    `  failures by reason:${r.failuresByReason.length === 0 ? ' none' : ''}`,
    ...r.failuresByReason.map((f) => `    ${String(f.count).padStart(6)}  ${f.code}: ${f.reason}`),
    '  compensations per step:',
    ...r.compensationsPerStep.map((c) => `    ${String(c.count).padStart(6)}  ${c.step} (${c.compensation})`),
  ];
  return lines;
}

/** Runs the command; resolves to the exit code (0 done, 1 failed, 2 usage). */
export async function runReport(argv: readonly string[], io: ReportIo): Promise<number> {
  let flags: Record<string, string | true>;
  try {
    flags = parseFlags(argv, { from: 'value', to: 'value', out: 'value', json: 'switch', help: 'switch' }).flags;
  } catch (e) {
    io.err(`report: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (flags.help) {
    io.out(USAGE);
    return 0;
  }
  const range = checkReportRange(flags.from, flags.to);
  if (!range.ok) {
    const errors = range.error.code === 'ValidationFailed' ? range.error.errors : [];
    io.err(
      `report: ${range.error.message}\n${errors.map((e) => `  --${e.path.slice(1)} ${e.message}`).join('\n')}\n${USAGE}`,
    );
    return 2;
  }
  const c = io.composition ?? new Composition(parseConfig(io.settings));
  let lastProgress = 0;
  const reader = c.archiveReader(
    countingFiles((p) => {
      // Every file would be a flood over a month of Capture windows: about one line a second.
      const now = performance.now();
      if (p.files === 1 || now - lastProgress >= 1000) {
        lastProgress = now;
        io.err(`reading file ${p.files} (${p.events} events so far): ${p.file}`);
      }
    }),
  );
  if (!reader) {
    io.err(
      'report: no archive is configured (set ArchiveLake__dfsServiceUri, or run it beside `npm start`, whose local.settings.json points at the local lake).',
    );
    return 1;
  }
  const report = await reportFromArchive(reader, range.value);
  const out = path.resolve(io.cwd, typeof flags.out === 'string' ? flags.out : 'report.svg');
  fs.writeFileSync(out, reportSvg(report));
  if (flags.json) io.out(JSON.stringify(report, null, 2));
  else for (const line of reportText(report)) io.out(line);
  io.err(`chart: ${out}`);
  return 0;
}
