/**
 * V8's sampling CPU profiler on the calling thread (main thread or worker), through
 * node:inspector: what the benchmarks use to say where a request's CPU goes, on each thread.
 */
import { Session } from 'node:inspector/promises';

/** Starts profiling, sampling every `intervalMicros`; the returned call stops it and gives the profile. */
export async function startCpuProfile(intervalMicros: number): Promise<() => Promise<object>> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: intervalMicros });
    await session.post('Profiler.start');
  } catch (e) {
    session.disconnect();
    throw e;
  }
  return async () => {
    try {
      const { profile } = await session.post('Profiler.stop');
      return profile;
    } finally {
      await session.post('Profiler.disable').catch(() => undefined);
      session.disconnect();
    }
  };
}
