/**
 * `npm run simulate -- --drones N --deliveries M --rate R [options]`: a drone fleet and its
 * customers against the pipeline, locally (`npm start`) or in Azure. Drones register by telemetry
 * (Idle, battery high, around Seattle); customers request deliveries over HTTP; the simulator
 * polls each delivery until a drone is assigned, then flies that drone (EnRouteToPickup →
 * PickedUp → EnRouteToDropoff → Delivered → Returning → Idle) with rising sequence numbers and
 * positions moving along the way, in scaled time. Duplicates, reordering and poison events can be
 * injected. Idle drones send a heartbeat report every `--heartbeat` seconds, so they stay
 * available (the pipeline assigns only drones that reported in the last DroneFreshnessMinutes).
 *
 * As a soak test: `--cancel <p>` cancels that share of deliveries at random moments (a 409 for
 * one that already finished is fine), `--wrong-drone <p>` sends, for that share of deliveries, a
 * milestone report from a drone that is not the assigned one. At the end it checks the
 * invariants: every delivery ends Delivered, Cancelled or Failed; none ends Failed after its drone
 * reported Delivered; every history is gapless (1..n) and ends with its stage's event; milestones
 * come only from the assigned drone; and every drone is free again (no delivery, no
 * reservation). It exits non-zero when a delivery is still open at `--timeout` or an invariant
 * fails, naming stuck deliveries with their last event. `--summary-json <file>` writes the result.
 *
 * Azure (`--target azure`): telemetry goes to Event Hubs with `@azure/event-hubs` and
 * DefaultAzureCredential (the signed-in identity needs "Azure Event Hubs Data Sender" on the
 * namespace); HTTP calls carry a bearer token for `--scope` (the function app's Entra ID
 * application, e.g. `api://<client-id>/.default`), which App Service Authentication validates and
 * turns into the principal headers. Deliveries are then owned by that identity.
 *
 * This file is the CLI entry; its parts are in tools/simulation/soak/: options.ts (usage and
 * flags), fleet.ts and telemetry.ts (the drones and their reports, faults injected),
 * customers.ts (requests, polling, cancels), invariants.ts (the end-of-run check), summary.ts
 * (progress, summary, JSON), pipeline.ts (HTTP and retries), geo.ts, and run.ts (one run).
 */
import { parseOptions, USAGE } from './simulation/soak/options';
import type { Options } from './simulation/soak/options';
import { run } from './simulation/soak/run';

export { parseOptions } from './simulation/soak/options';
export { checkDeliveries } from './simulation/soak/invariants';
export type { InvariantResult, StuckDelivery } from './simulation/soak/invariants';

if (require.main === module) {
  let options: Options | 'help';
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (options === 'help') {
    console.log(USAGE);
    process.exit(0);
  }
  run(options)
    .then((code) => process.exit(code))
    .catch((e: unknown) => {
      console.error((e as Error).stack ?? String(e));
      process.exit(1);
    });
}
