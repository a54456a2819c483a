/**
 * The function app's entry point (package.json `main`): importing a module registers its
 * triggers through `app.*` / `df.app.*`. Every trigger module is listed here once.
 */
import './ops/health';
import './telemetry/ingest-telemetry';
