/**
 * The function app's entry point (package.json `main`): importing a module registers its
 * triggers through `app.*` / `df.app.*`. Every trigger module is listed here once.
 */
import './ops/principal-trust';
import './ops/health';
import './telemetry/ingest-telemetry';
import './history/project-delivery-events';
import './history/get-delivery-status';
import './history/get-delivery-history';
import './history/get-drone';
import './history/rebuild-views';
import './history/get-rebuild-job';
import './history/rebuild-views-job';
import './history/rebuild-views-slice';
import './ops/open-api';
import './ops/get-delivery-trace';
import './ops/get-delivery-report';
import './saga/request-delivery';
import './saga/cancel-delivery';
import './ops/ops-list-drones';
import './ops/ops-list-deliveries';
import './ops/ops-delivery-timeline';
import './ops/ops-list-dead-letters';
import './ops/ops-replay-dead-letter';
import './ops/ops-supervisor-alerts';
import './ops/ops-hub-lag';
import './saga/delivery-saga';
import './saga/delivery-recovery';
import './saga/supervise-sagas';
import './saga/activities/create-package';
import './saga/activities/cancel-package';
import './saga/activities/assign-drone';
import './saga/activities/release-drone';
import './saga/activities/schedule-delivery';
import './saga/activities/cancel-delivery-schedule';
import './saga/activities/complete-delivery';
import './saga/activities/emit-delivery-event';
import './saga/activities/close-intake';
