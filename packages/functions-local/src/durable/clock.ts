/**
 * The engine's time: durable timers fire at their `fireAt` on a Clock (tools/runtime/clock.ts).
 * Its wall clock unrefs timers, so an armed durable timer never keeps a process alive by itself.
 */
import { VirtualClock, wallClock } from '../clock';
import type { Clock } from '../clock';

export type { Clock };
export { VirtualClock };
export const realClock: Clock = wallClock({ unref: true });
