/**
 * Where a benchmark's CPU goes: a V8 CPU profile of this process taken while some work runs
 * (node:inspector, no extra tools), and a pure attribution of its samples to named parts of
 * the system by the script each sampled frame belongs to.
 *
 * A sample whose own frame is Node's core (sockets, the HTTP parser, streams, timers) or native
 * is charged to the nearest caller on its stack that belongs to a named part, so the HTTP
 * parsing an SDK asked for is the SDK's; what no named part called (the event loop reading a
 * socket before any handler runs) stays "Node core". A frame of a package no part names (a
 * body parser, a histogram, a tslib helper) is charged to its caller the same way. Garbage
 * collection and V8's own work are their own parts; idle time is not CPU and is left out.
 */
import { startCpuProfile } from '@fabrikam/functions-local';

export interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string };
  readonly children?: readonly number[];
}

/** The shape of `Profiler.stop`'s profile, as much of it as the attribution reads. */
export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples?: readonly number[];
  /** Microseconds between consecutive samples (the first from the profile's start). */
  readonly timeDeltas?: readonly number[];
}

/** A named part and the scripts that are its own: a URL belongs to the first part that matches. */
export interface Part {
  readonly name: string;
  readonly matches: (url: string) => boolean;
}

export const NODE_CORE = 'Node core (sockets, HTTP parsing, timers)';
export const GC = 'garbage collection';
export const V8 = 'V8 and native (program)';

/** Microseconds of CPU per part (idle left out), largest first. */
export function cpuByPart(profile: CpuProfile, parts: readonly Part[]): { part: string; micros: number }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const partOf = new Map<number, string | undefined>();
  const own = (n: ProfileNode): string | undefined => {
    const name = n.callFrame.functionName;
    if (name === '(idle)') return '';
    if (name === '(garbage collector)') return GC;
    if (name === '(program)') return V8;
    const url = n.callFrame.url;
    return url === '' ? undefined : parts.find((p) => p.matches(url))?.name;
  };
  const attribute = (id: number): string | undefined => {
    if (partOf.has(id)) return partOf.get(id);
    const n = byId.get(id);
    let got: string | undefined;
    if (n) {
      got = own(n);
      const up = parent.get(id);
      if (got === undefined && up !== undefined) got = attribute(up);
    }
    partOf.set(id, got);
    return got;
  };
  const totals = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    // A sample stands for the time until the next one; the last, for the typical interval.
    const micros = deltas[i + 1] ?? deltas[i] ?? 0;
    const part = attribute(samples[i] as number) ?? NODE_CORE;
    if (part === '') continue;
    totals.set(part, (totals.get(part) ?? 0) + Math.max(0, micros));
  }
  return [...totals].map(([part, micros]) => ({ part, micros })).sort((a, b) => b.micros - a.micros);
}

/** Runs `work` under V8's sampling profiler (every `intervalMicros`) and returns its profile too. */
export async function profiled<T>(
  work: () => Promise<T>,
  intervalMicros = 250,
): Promise<{ result: T; profile: CpuProfile }> {
  const stop = await startCpuProfile(intervalMicros);
  const outcome = await work().then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  const profile = (await stop()) as CpuProfile;
  if (!outcome.ok) throw outcome.error;
  return { result: outcome.value, profile };
}
