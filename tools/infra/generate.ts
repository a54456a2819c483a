/**
 * `npm run gen:infra`: writes infra/generated/*.json from the code's own declarations, for Bicep
 * to read with loadJsonContent(), so no hub, container, setting name or default is copied by
 * hand into the templates. `--check` writes nothing and fails when a file is stale (what the
 * infra tests assert too).
 *
 * - resources.json: hubs with partition key, consumer groups and Capture switch; the Cosmos DB
 *   database and containers (partition key, TTL); the host and lake containers.
 * - app-settings.json: every `app` setting of functions/config.ts whose value is fixed by the
 *   code (tunables at their documented defaults, consumer groups, database, file system).
 * - role-assignments.json: the role table of tools/infra/access.ts.
 * - app-roles.json: the API's app roles in the shape `az ad app create --app-roles` takes
 *   (infra/hooks/preprovision.mjs), with ids stable across runs.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SETTINGS } from '../../functions/config';
import type { SettingName } from '../../functions/config';
import {
  BLOB_CONTAINERS,
  COSMOS_CONTAINERS,
  COSMOS_DATABASE,
  EVENT_HUBS,
  LAKE_FILE_SYSTEMS,
} from '../../functions/resources';
import { ROLE_ADMIN, ROLE_READER } from '../../domain/shared/caller';
import { roleAssignmentTable } from './access';

/** The repository root: the nearest folder up with package.json (this file runs from tools/ or dist-tools/tools/). */
function repoRoot(from: string): string {
  let dir = from;
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

export const GENERATED_DIR = path.join(repoRoot(__dirname), 'infra', 'generated');

/** `Default: 30000.` (or `Default set in app settings: …`) at the end of a setting's description. */
export function documentedDefault(description: string): string | undefined {
  return /Default(?: set in app settings)?: (.+)\.$/.exec(description)?.[1];
}

export function resourcesJson(): Record<string, unknown> {
  return {
    eventHubs: EVENT_HUBS.map((h) => ({
      name: h.name,
      partitionKey: h.partitionKey,
      consumerGroups: h.consumerGroups.map((c) => c.name),
      capture: h.capture,
      partitionCount: h.partitionCount ?? { dev: 2, prod: 2 },
    })),
    cosmosDatabase: COSMOS_DATABASE,
    cosmosContainers: Object.values(COSMOS_CONTAINERS).map((c) => ({
      name: c.name,
      partitionKey: c.partitionKey,
      ...('defaultTtl' in c ? { defaultTtl: c.defaultTtl } : {}),
    })),
    hostContainers: Object.values(BLOB_CONTAINERS).map((c) => c.name),
    deadLetterContainer: BLOB_CONTAINERS.deadLetter.name,
    lakeFileSystems: Object.values(LAKE_FILE_SYSTEMS).map((f) => f.name),
    captureFileSystem: LAKE_FILE_SYSTEMS.capture.name,
  };
}

export function appSettingsJson(): Record<string, unknown> {
  const settings: Record<string, string> = {};
  for (const [name, spec] of Object.entries(SETTINGS) as [SettingName, (typeof SETTINGS)[SettingName]][]) {
    if (spec.where !== 'app') continue;
    const value = documentedDefault(spec.description);
    if (value !== undefined) settings[name] = value;
  }
  for (const hub of EVENT_HUBS) for (const cg of hub.consumerGroups) settings[cg.setting] = cg.name;
  settings.CosmosDatabaseName = COSMOS_DATABASE;
  settings.ArchiveLakeFileSystem = LAKE_FILE_SYSTEMS.capture.name;
  return { settings: Object.fromEntries(Object.entries(settings).sort(([a], [b]) => a.localeCompare(b))) };
}

export function roleAssignmentsJson(): Record<string, unknown> {
  return { assignments: roleAssignmentTable() };
}

/** A stable UUID (RFC 4122 layout, version 5 bits) from a name: the same role keeps its id. */
export function stableUuid(name: string): string {
  const h = createHash('sha1').update(`fabrikam-drone-delivery/${name}`).digest();
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x50;
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

export function appRolesJson(): unknown[] {
  const role = (value: string, displayName: string, description: string) => ({
    allowedMemberTypes: ['User', 'Application'],
    description,
    displayName,
    id: stableUuid(value),
    isEnabled: true,
    value,
  });
  return [
    role(ROLE_ADMIN, 'Delivery administrator', 'Sees and changes every delivery, reads drones, runs view rebuilds.'),
    role(ROLE_READER, 'Delivery reader', 'Reads every delivery and every drone.'),
  ];
}

export function generatedFiles(): Record<string, string> {
  const text = (v: unknown): string => `${JSON.stringify(v, null, 2)}\n`;
  return {
    'resources.json': text(resourcesJson()),
    'app-settings.json': text(appSettingsJson()),
    'role-assignments.json': text(roleAssignmentsJson()),
    'app-roles.json': text(appRolesJson()),
  };
}

/** Files whose content on disk differs from what the code declares. */
export function staleFiles(dir = GENERATED_DIR): string[] {
  return Object.entries(generatedFiles())
    .filter(
      ([name, content]) =>
        !fs.existsSync(path.join(dir, name)) || fs.readFileSync(path.join(dir, name), 'utf8') !== content,
    )
    .map(([name]) => name);
}

function main(argv: readonly string[]): number {
  if (argv.includes('--check')) {
    const stale = staleFiles();
    if (stale.length > 0) {
      console.error(`gen:infra: stale in infra/generated: ${stale.join(', ')}. Run \`npm run gen:infra\`.`);
      return 1;
    }
    console.log('gen:infra: infra/generated is up to date.');
    return 0;
  }
  fs.mkdirSync(GENERATED_DIR, { recursive: true });
  for (const [name, content] of Object.entries(generatedFiles()))
    fs.writeFileSync(path.join(GENERATED_DIR, name), content);
  console.log(
    `gen:infra: wrote ${Object.keys(generatedFiles()).join(', ')} to ${path.relative(process.cwd(), GENERATED_DIR) || GENERATED_DIR}.`,
  );
  return 0;
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
