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
import './history/rebuild-views-http';
import './history/get-rebuild-job';
import './history/rebuild-job';
import './ops/openapi';
import './ops/list-drones-http';
import './ops/list-deliveries-http';
import './ops/delivery-timeline-http';
import './ops/list-dead-letters-http';
import './ops/replay-dead-letter-http';
import './ops/supervisor-alerts-http';
import './ops/hub-lag-http';
import './saga/request-delivery-http';
import './saga/cancel-delivery-http';
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
