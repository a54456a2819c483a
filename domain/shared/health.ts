/** Health verdict from dependency probes (docs/contract.md §1 `GET /api/health`). */
export type HealthStatus = 'Healthy' | 'Unhealthy';

export interface ProbeResult {
  readonly name: string;
  readonly ok: boolean;
  readonly latencyMs: number;
  readonly error?: string;
}

export interface HealthReport {
  readonly status: HealthStatus;
  readonly checks: Readonly<Record<string, { status: HealthStatus; latencyMs: number; error?: string }>>;
}

export function summarizeHealth(results: readonly ProbeResult[]): HealthReport {
  const checks: Record<string, { status: HealthStatus; latencyMs: number; error?: string }> = {};
  for (const r of results) {
    checks[r.name] = {
      status: r.ok ? 'Healthy' : 'Unhealthy',
      latencyMs: Math.round(r.latencyMs),
      ...(r.error ? { error: r.error } : {}),
    };
  }
  return { status: results.every((r) => r.ok) ? 'Healthy' : 'Unhealthy', checks };
}

/** The report without error text: what an anonymous caller may see. */
export function redactHealth(report: HealthReport): HealthReport {
  const checks: Record<string, { status: HealthStatus; latencyMs: number }> = {};
  for (const [name, c] of Object.entries(report.checks)) checks[name] = { status: c.status, latencyMs: c.latencyMs };
  return { status: report.status, checks };
}
