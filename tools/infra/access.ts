/**
 * Who may do what in Azure, as one table of `{ principal, role, scope }` rows: least privilege,
 * derived from what the code declares (functions/resources.ts, functions/names.ts), written to
 * infra/generated/role-assignments.json by `npm run gen:infra` and deployed row by row by
 * infra/modules/rbac.bicep. Roles are named as in the Azure Verified Modules' built-in role maps.
 *
 * - `app`: the function app's identity. Receives from each hub it consumes, sends only to the
 *   hub it publishes, reads the Capture archive (never writes the lake), owns host storage as the
 *   Functions host requires, writes Cosmos DB data in its database only.
 * - `capture`: Event Hubs Capture's own identity; writes the capture container only.
 * - `deployer`: the person running `azd up` in dev, for local runs against Azure; never in prod.
 */
import { BLOB_CONTAINERS, COSMOS_DATABASE, EVENT_HUBS, LAKE_FILE_SYSTEMS } from '../../functions/resources';
import { HUBS } from '../../functions/names';

export type Principal = 'app' | 'capture' | 'deployer';
export type Profile = 'dev' | 'prod';

export type Scope =
  | { readonly kind: 'eventHub'; readonly name: string }
  | { readonly kind: 'storageAccount'; readonly account: 'host' | 'lake' }
  | { readonly kind: 'blobContainer'; readonly account: 'host' | 'lake'; readonly name: string }
  | { readonly kind: 'appInsights' }
  | { readonly kind: 'cosmosDatabase'; readonly name: string };

export interface RoleAssignmentRow {
  readonly principal: Principal;
  /** A role name of AVM's built-in role maps (Cosmos DB: its built-in data-plane role). */
  readonly role: string;
  readonly scope: Scope;
  readonly profiles: readonly Profile[];
}

const BOTH: readonly Profile[] = ['dev', 'prod'];
const DEV: readonly Profile[] = ['dev'];

/** Hubs the app publishes to (adapters/event-publishers.ts): the delivery events only. */
export const PUBLISHED_HUBS: readonly string[] = [HUBS.deliveryEvents];

export function roleAssignmentTable(): RoleAssignmentRow[] {
  const consumed = EVENT_HUBS.filter((h) => h.consumerGroups.length > 0).map((h) => h.name);
  const captureFs = LAKE_FILE_SYSTEMS.capture.name;
  return [
    ...consumed.map((name): RoleAssignmentRow => ({
      principal: 'app',
      role: 'Azure Event Hubs Data Receiver',
      scope: { kind: 'eventHub', name },
      profiles: BOTH,
    })),
    ...PUBLISHED_HUBS.map((name): RoleAssignmentRow => ({
      principal: 'app',
      role: 'Azure Event Hubs Data Sender',
      scope: { kind: 'eventHub', name },
      profiles: BOTH,
    })),
    // The Functions host's own needs on AzureWebJobsStorage (Durable task hub, leases, checkpoints, timers).
    {
      principal: 'app',
      role: 'Storage Blob Data Owner',
      scope: { kind: 'storageAccount', account: 'host' },
      profiles: BOTH,
    },
    {
      principal: 'app',
      role: 'Storage Queue Data Contributor',
      scope: { kind: 'storageAccount', account: 'host' },
      profiles: BOTH,
    },
    {
      principal: 'app',
      role: 'Storage Table Data Contributor',
      scope: { kind: 'storageAccount', account: 'host' },
      profiles: BOTH,
    },
    {
      principal: 'app',
      role: 'Storage Blob Data Reader',
      scope: { kind: 'blobContainer', account: 'lake', name: captureFs },
      profiles: BOTH,
    },
    { principal: 'app', role: 'Monitoring Metrics Publisher', scope: { kind: 'appInsights' }, profiles: BOTH },
    {
      principal: 'app',
      role: 'Cosmos DB Built-in Data Contributor',
      scope: { kind: 'cosmosDatabase', name: COSMOS_DATABASE },
      profiles: BOTH,
    },
    {
      principal: 'capture',
      role: 'Storage Blob Data Contributor',
      scope: { kind: 'blobContainer', account: 'lake', name: captureFs },
      profiles: BOTH,
    },
    // dev only: a laptop runs the app, the simulator and the tools against the deployed resources.
    ...EVENT_HUBS.flatMap((h): RoleAssignmentRow[] => [
      {
        principal: 'deployer',
        role: 'Azure Event Hubs Data Receiver',
        scope: { kind: 'eventHub', name: h.name },
        profiles: DEV,
      },
      {
        principal: 'deployer',
        role: 'Azure Event Hubs Data Sender',
        scope: { kind: 'eventHub', name: h.name },
        profiles: DEV,
      },
    ]),
    {
      principal: 'deployer',
      role: 'Storage Blob Data Contributor',
      scope: { kind: 'blobContainer', account: 'host', name: BLOB_CONTAINERS.deadLetter.name },
      profiles: DEV,
    },
    {
      principal: 'deployer',
      role: 'Storage Blob Data Reader',
      scope: { kind: 'blobContainer', account: 'lake', name: captureFs },
      profiles: DEV,
    },
    {
      principal: 'deployer',
      role: 'Cosmos DB Built-in Data Contributor',
      scope: { kind: 'cosmosDatabase', name: COSMOS_DATABASE },
      profiles: DEV,
    },
  ];
}
