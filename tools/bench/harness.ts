/**
 * Side-by-side measurement for noisy machines: each metric and its baseline run interleaved
 * (A/B/A/B…) for several rounds and the medians are compared, so drift in machine load hits
 * both sides alike. Prints a table and returns rows for bench/results.json.
 */
export interface Row {
  readonly metric: string;
  readonly ours: number;
  readonly baseline: number;
  readonly ratio: number;
  readonly target: string;
  readonly unit: string;
  readonly note?: string;
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

export const percentile = (xs: readonly number[], p: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] as number;
};

/** Operations per second of `fn`, which performs `opsPerCall` operations per call, over about `ms`. */
export async function opsPerSecond(
  fn: () => unknown | Promise<unknown>,
  opsPerCall: number,
  ms: number,
): Promise<number> {
  // Warm up so the JIT has seen the code before the clock starts.
  for (let i = 0; i < 3; i++) await fn();
  let calls = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(Math.round(ms * 1e6));
  let elapsed = 0n;
  while (elapsed < budget) {
    await fn();
    calls++;
    elapsed = process.hrtime.bigint() - start;
  }
  return (calls * opsPerCall) / (Number(elapsed) / 1e9);
}

/** A/B/A/B… for `rounds` rounds; returns the median of each side. */
export async function sideBySide(
  ours: () => Promise<number>,
  baseline: () => Promise<number>,
  rounds: number,
): Promise<{ ours: number; baseline: number; oursRuns: number[]; baselineRuns: number[] }> {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < rounds; i++) {
    a.push(await ours());
    b.push(await baseline());
  }
  return { ours: median(a), baseline: median(b), oursRuns: a, baselineRuns: b };
}

/** A figure as the tables print it: thousands grouped from 100 up, else 2 or 3 decimals. */
export const formatFigure = (n: number): string =>
  !Number.isFinite(n)
    ? String(n)
    : Math.abs(n) >= 100
      ? Math.round(n).toLocaleString('en-US')
      : n.toFixed(Math.abs(n) >= 1 ? 2 : 3);

export function printTable(rows: readonly Row[]): void {
  const header = ['metric', 'ours', 'baseline', 'ratio', 'target', 'unit'];
  const body = rows.map((r) => [
    r.metric,
    formatFigure(r.ours),
    formatFigure(r.baseline),
    formatFigure(r.ratio),
    r.target,
    r.unit,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of body) console.log(line(r));
  for (const r of rows) if (r.note) console.log(`  * ${r.metric}: ${r.note}`);
}

/** A numeric target (`>= x`, `< x`, or a bare `x` meaning equal) that the ratio does not meet. */
export function missed(r: Row): boolean {
  const m = /^(>=|<=|<|>)?\s*(\d+(?:\.\d+)?)(?:\s|$)/.exec(r.target);
  if (!m) return false;
  const x = Number(m[2]);
  switch (m[1]) {
    case '>=':
      return !(r.ratio >= x);
    case '>':
      return !(r.ratio > x);
    case '<=':
      return !(r.ratio <= x);
    case '<':
      return !(r.ratio < x);
    default:
      return Math.abs(r.ratio - x) > 1e-9;
  }
}
