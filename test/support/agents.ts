/** The agents' settings the tests run with: the defaults of functions/config.ts. */
export const TEST_AGENT_SETTINGS = {
  cruiseSpeedMps: 15,
  handlingSeconds: 60,
  maxPickupDistanceM: 25_000,
  droneFreshnessMs: 10 * 60_000,
} as const;
