/**
 * The delivery report's chart: deliveries per hour by outcome, as a stacked bar chart in plain
 * SVG (a string, no chart library, no I/O), so the CLI writes it to a file and the admin route
 * serves it as `image/svg+xml` from the same function.
 */
import type { DeliveryReport, HourBucket } from '../../domain/delivery/report';

const SERIES: readonly {
  readonly key: keyof Omit<HourBucket, 'hour'>;
  readonly label: string;
  readonly color: string;
}[] = [
  { key: 'onTime', label: 'Delivered on time', color: '#2e7d32' },
  { key: 'late', label: 'Delivered late', color: '#ef6c00' },
  { key: 'delivered', label: 'Delivered (no promise)', color: '#00838f' },
  { key: 'failed', label: 'Failed', color: '#c62828' },
  { key: 'cancelled', label: 'Cancelled', color: '#757575' },
  { key: 'inFlight', label: 'In flight', color: '#1565c0' },
];

const escapeXml = (s: string): string =>
  s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);

/** A round step for about five gridlines up to `max`. */
function tickStep(max: number): number {
  if (max <= 5) return 1;
  const raw = max / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const scaled = raw / magnitude;
  return (scaled <= 1 ? 1 : scaled <= 2 ? 2 : scaled <= 5 ? 5 : 10) * magnitude;
}

const total = (b: HourBucket): number => SERIES.reduce((sum, s) => sum + b[s.key], 0);

export function reportSvg(report: DeliveryReport): string {
  const hours = report.hourly;
  const bar = Math.max(4, Math.min(24, Math.floor(960 / Math.max(1, hours.length))));
  const left = 56;
  const top = 48;
  const plotH = 240;
  const plotW = bar * hours.length;
  const width = left + plotW + 200;
  const height = top + plotH + 64;
  const max = Math.max(1, ...hours.map(total));
  const step = tickStep(max);
  const yMax = Math.ceil(max / step) * step;
  const y = (v: number): number => top + plotH - (v / yMax) * plotH;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
  );
  out.push(
    `<title>Deliveries per hour by outcome, ${escapeXml(report.range.from)} to ${escapeXml(report.range.to)}</title>`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  const rate = report.onTime.rate === null ? 'n/a' : `${(report.onTime.rate * 100).toFixed(1)}%`;
  out.push(`<text x="${left}" y="20" font-size="14" font-weight="bold">Deliveries per hour by outcome (UTC)</text>`);
  out.push(`<text x="${left}" y="36">${report.deliveries} deliveries requested, on time ${rate}</text>`);
  for (let v = 0; v <= yMax; v += step) {
    out.push(`<line x1="${left}" x2="${left + plotW}" y1="${y(v)}" y2="${y(v)}" stroke="#e0e0e0"/>`);
    out.push(`<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${v}</text>`);
  }
  const labelEvery = Math.max(1, Math.ceil(hours.length / 12));
  hours.forEach((b, i) => {
    const x = left + i * bar;
    let stacked = 0;
    for (const s of SERIES) {
      const n = b[s.key];
      if (n === 0) continue;
      const h = (n / yMax) * plotH;
      out.push(
        `<rect x="${x + 1}" y="${y(stacked + n)}" width="${bar - 2}" height="${h}" fill="${s.color}"><title>${escapeXml(b.hour)}: ${n} ${escapeXml(s.label.toLowerCase())}</title></rect>`,
      );
      stacked += n;
    }
    if (i % labelEvery === 0) {
      const label = `${b.hour.slice(5, 10)} ${b.hour.slice(11, 13)}h`;
      out.push(`<text x="${x + bar / 2}" y="${top + plotH + 14}" text-anchor="middle">${escapeXml(label)}</text>`);
    }
  });
  out.push(`<line x1="${left}" x2="${left + plotW}" y1="${top + plotH}" y2="${top + plotH}" stroke="#424242"/>`);
  SERIES.forEach((s, i) => {
    const ly = top + i * 18;
    out.push(`<rect x="${left + plotW + 16}" y="${ly}" width="12" height="12" fill="${s.color}"/>`);
    out.push(`<text x="${left + plotW + 34}" y="${ly + 10}">${escapeXml(s.label)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
