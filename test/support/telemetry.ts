/** Builders for telemetry bodies used across specifications. */
import type { Telemetry } from '../../domain/telemetry/schema';

export function telemetry(overrides: Partial<Telemetry> = {}): Telemetry {
  return {
    schemaVersion: 1,
    droneId: 'drone-1',
    sequence: 1,
    timestamp: '2026-11-22T10:00:05Z',
    position: { lat: 47.64, lon: -122.13, altitudeM: 120 },
    batteryPct: 87.5,
    speedMps: 14.2,
    status: 'Idle',
    ...overrides,
  };
}
