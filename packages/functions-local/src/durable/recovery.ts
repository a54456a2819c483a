/**
 * Recovery after a restart: the engine loads every instance the store holds and resumes what was
 * in flight. Pending activities run again (at least once), timers are re-armed, children that
 * finished unheard hand their results over, queued events are played.
 */
import { kick } from './episode';
import type { EngineState } from './state';
import { isTerminal } from './store';
import { dispatch } from './work';

export async function recover(s: EngineState): Promise<void> {
  const records = await s.store.loadAll();
  for (const r of records) s.records.set(r.instanceId, r);
  for (const r of records) {
    if (isTerminal(r.status)) continue;
    dispatch(s, r);
    kick(s, r.instanceId);
  }
}
