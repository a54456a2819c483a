/**
 * Test controls: holding activity results until a test releases them (so it can raise events
 * meanwhile). Losing a result (`loseResult`) and crashing live where they act, in work.ts and
 * the engine's `crash()`; event delivery ('batch' or 'single') in episode.ts.
 */
import type { ActivityRun, ResultHold } from './engine-types';
import type { EngineState } from './state';

/**
 * Holds the results of the activities `matches` selects: they run, but what they return
 * reaches the orchestration only on `release()`.
 */
export function holdResults(s: EngineState, matches: (run: ActivityRun) => boolean): ResultHold {
  const hold = { matches, waiting: [] as (() => void)[], released: false };
  s.holds.push(hold);
  return {
    get held() {
      return hold.waiting.length;
    },
    release: async () => {
      hold.released = true;
      const i = s.holds.indexOf(hold);
      if (i >= 0) s.holds.splice(i, 1);
      for (const w of hold.waiting.splice(0)) w();
      await s.idle();
    },
  };
}

/** Whether a hold took the result; `deliver` runs on release. */
export function holdResult(s: EngineState, run: ActivityRun, deliver: () => void): boolean {
  const hold = s.holds.find((h) => !h.released && h.matches(run));
  if (!hold) return false;
  hold.waiting.push(deliver);
  return true;
}
