/**
 * Dependency probes for the health endpoint: each is one cheap read against one dependency,
 * bounded by a timeout so a hung dependency reports Unhealthy instead of hanging the probe.
 */
import type { ProbeResult } from '../../domain/shared/health';
import type { Composition } from '../composition';

export interface HealthProbe {
  readonly name: string;
  check(signal: AbortSignal): Promise<void>;
}

export function defaultProbes(c: Composition): HealthProbe[] {
  const lake: HealthProbe[] = c.config.lake
    ? [
        {
          name: 'archiveLake',
          check: async (abortSignal) => void (await c.lakeFileSystem().getProperties({ abortSignal })),
        },
      ]
    : [];
  return [
    ...lake,
    {
      name: 'cosmosDb',
      check: async (abortSignal) => {
        await c.database().read({ abortSignal });
      },
    },
    {
      name: 'deadLetterStorage',
      check: async (abortSignal) => {
        await c.deadLetterContainer().getProperties({ abortSignal });
      },
    },
  ];
}

export async function runProbes(probes: readonly HealthProbe[], timeoutMs: number): Promise<ProbeResult[]> {
  return Promise.all(
    probes.map(async (probe): Promise<ProbeResult> => {
      const started = performance.now();
      const controller = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          controller.abort();
          reject(new Error(`no answer within ${timeoutMs} ms`));
        }, timeoutMs);
      });
      try {
        await Promise.race([probe.check(controller.signal), timeout]);
        return { name: probe.name, ok: true, latencyMs: performance.now() - started };
      } catch (e) {
        return { name: probe.name, ok: false, latencyMs: performance.now() - started, error: describe(e) };
      } finally {
        clearTimeout(timer);
      }
    }),
  );
}

function describe(e: unknown): string {
  if (e && typeof e === 'object') {
    const code = (e as { code?: unknown; statusCode?: unknown }).statusCode ?? (e as { code?: unknown }).code;
    const message = (e as { message?: unknown }).message;
    return [code, message]
      .filter((x) => x !== undefined && x !== '')
      .join(': ')
      .slice(0, 200);
  }
  return String(e).slice(0, 200);
}
