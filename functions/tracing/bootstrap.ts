/**
 * The one place the OpenTelemetry SDK is set up (the composition root calls it): a Node tracer
 * provider registered globally once per process (AsyncLocalStorage context, W3C propagation),
 * whose spans go to what the configuration selects:
 * - Azure: the Azure Monitor trace exporter when `APPLICATIONINSIGHTS_CONNECTION_STRING` is set,
 *   with the app's managed identity (the Application Insights resource has local auth off). The
 *   host runs with `telemetryMode: OpenTelemetry` (host.json) and emits the invocation spans the
 *   app's spans hang under.
 * - The local runtime: a bounded in-memory span store that serves the trace view.
 *
 * The provider is registered once because the API's globals are per process; the processors it
 * forwards to are swapped by each new composition (tests build several in one process).
 */
import { trace } from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';
import type { TokenCredential } from '@azure/identity';
import type * as AzureMonitorExporter from '@azure/monitor-opentelemetry-exporter';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { SpanStore } from './span-store';

export interface TracingSettings {
  /** Spans kept in memory for the trace view; 0: none (Azure). */
  readonly memorySpans: number;
  readonly azureMonitorConnectionString?: string;
}

export interface Tracing {
  /** Present under the local runtime. */
  readonly spans?: SpanStore;
}

/** Forwards every span to the processors of the current composition. */
class Forwarder implements SpanProcessor {
  targets: readonly SpanProcessor[] = [];
  onStart(span: Span, parent: Context): void {
    for (const t of this.targets) t.onStart(span, parent);
  }
  onEnd(span: ReadableSpan): void {
    for (const t of this.targets) t.onEnd(span);
  }
  async forceFlush(): Promise<void> {
    await Promise.all(this.targets.map((t) => t.forceFlush()));
  }
  async shutdown(): Promise<void> {
    await Promise.all(this.targets.map((t) => t.shutdown()));
  }
}

const INSTALLED = Symbol.for('fabrikam-drone-delivery.tracing');
type Global = typeof globalThis & { [INSTALLED]?: Forwarder };

function forwarder(): Forwarder {
  const g = globalThis as Global;
  if (!g[INSTALLED]) {
    const f = new Forwarder();
    const provider = new NodeTracerProvider({ spanProcessors: [f] });
    provider.register();
    // Another SDK registered first (register() then leaves the global alone): say so, since
    // every span of the app would be lost without a word.
    const global = trace.getTracerProvider() as { getDelegate?: () => unknown };
    if (global.getDelegate?.() !== provider) {
      console.warn(
        JSON.stringify({
          event: 'tracing.notRegistered',
          reason: 'another OpenTelemetry tracer provider is registered globally',
        }),
      );
    }
    g[INSTALLED] = f;
  }
  return g[INSTALLED];
}

export function startTracing(settings: TracingSettings, credential: () => TokenCredential): Tracing {
  const f = forwarder();
  const spans = settings.memorySpans > 0 ? new SpanStore(settings.memorySpans) : undefined;
  const targets: SpanProcessor[] = [];
  if (spans) targets.push(spans);
  if (settings.azureMonitorConnectionString) {
    // Loaded only where it is used: the exporter brings a large module graph (logs, metrics,
    // protobuf) that would add seconds to every local start and test file.
    const { AzureMonitorTraceExporter } =
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require('@azure/monitor-opentelemetry-exporter') as typeof AzureMonitorExporter;
    targets.push(
      new BatchSpanProcessor(
        new AzureMonitorTraceExporter({
          connectionString: settings.azureMonitorConnectionString,
          credential: credential(),
        }),
      ),
    );
  }
  const previous = f.targets;
  f.targets = targets;
  for (const p of previous) void p.shutdown().catch(() => undefined);
  return spans ? { spans } : {};
}
