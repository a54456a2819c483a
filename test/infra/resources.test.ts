/**
 * Bicep declares what functions/resources.ts declares, with the same names: every hub with its
 * consumer groups and Capture, every Cosmos DB container with its partition key and TTL, every
 * blob container, and the lake file system Capture writes to. Extras in Bicep are stale.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SETTINGS } from '../../functions/config';
import { BLOB_CONTAINERS, COSMOS_CONTAINERS, EVENT_HUBS, LAKE_FILE_SYSTEMS as LAKE_FILE_SYSTEM_DECLS } from '../../functions/resources';
import { entry, INFRA, items, modules, readBicep, REPO, resolve, resolvedString, show, varValue } from './bicep';

const main = readBicep(path.join(INFRA, 'main.bicep'));
const appSettings = varValue(main, 'functionAppSettings');

/** Where Capture writes and the archive reader reads (the default of ArchiveLakeFileSystem). */
const LAKE_FILE_SYSTEMS = Object.values(LAKE_FILE_SYSTEM_DECLS).map((f) => f.name);

function moduleText(symbol: string): string {
  const m = modules(main).find((x) => x.symbol === symbol);
  if (!m) throw new Error(`main.bicep has no module ${symbol}`);
  return m.text;
}

describe('Event Hubs', () => {
  const hubs = items(varValue(main, 'eventHubDefinitions')).map((h) => ({
    name: resolvedString(main, entry(h, 'name')),
    consumerGroups: items(resolve(main, entry(h, 'consumerGroups')) ?? { kind: 'array', items: [] }).map((c) => resolvedString(main, c)),
    capture: show(resolve(main, entry(h, 'capture'))),
  }));

  it('declares exactly the hubs of EVENT_HUBS', () => {
    expect(hubs.map((h) => h.name).sort()).toEqual(EVENT_HUBS.map((h) => h.name).sort());
  });

  it.each(EVENT_HUBS.map((h) => [h.name, h] as const))('hub %s has its consumer groups and its Capture switch', (name, decl) => {
    const hub = hubs.find((h) => h.name === name);
    expect(hub?.consumerGroups.slice().sort()).toEqual(decl.consumerGroups.map((c) => c.name).sort());
    expect(hub?.capture).toBe(decl.capture);
  });

  it.each(EVENT_HUBS.flatMap((h) => h.consumerGroups.map((c) => [c.setting, c.name] as const)))('app setting %s names consumer group %s', (setting, group) => {
    expect(resolvedString(main, entry(appSettings, setting))).toBe(group);
  });

  it('creates the hubs from that list, consumer groups included, with no SAS rules', () => {
    const text = moduleText('eventHubs');
    expect(text).toMatch(/\[\s*for\s+hub\s+in\s+eventHubDefinitions\s*:/);
    expect(text).toMatch(/consumergroups:[^\n]*hub\.consumerGroups/);
    expect(text).toMatch(/authorizationRules:\s*\[\s*\]/);
    expect(text).toMatch(/skuName:\s*'Standard'/);
  });

  it('captures into the lake as Avro, by managed identity, in the layout the archive reader parses', () => {
    const text = moduleText('eventHubs');
    expect(text).toMatch(/captureDescription:\s*hub\.capture/);
    expect(text).toMatch(/encoding:\s*'Avro'/);
    expect(text).toMatch(/name:\s*'EventHubArchive\.AzureBlockBlob'/);
    expect(text).toMatch(/identity:\s*\{\s*userAssignedResourceId:\s*identity\.outputs\.resourceId\s*\}/);
    expect(text).toMatch(/storageAccountResourceId:\s*lake\.outputs\.resourceId/);
    expect(text).toMatch(/intervalInSeconds:\s*captureIntervalSeconds/);
    expect(text).toMatch(/sizeLimitInBytes:\s*captureSizeLimitBytes/);

    const format = resolvedString(main, { kind: 'expr', text: /archiveNameFormat:\s*(\w+)/.exec(text)?.[1] ?? '' });
    expect(format).toBe('{Namespace}/{EventHub}/{PartitionId}/{Year}/{Month}/{Day}/{Hour}/{Minute}/{Second}');
    const reader = fs.readFileSync(path.join(REPO, 'functions', 'adapters', 'capture-format.ts'), 'utf8');
    expect(reader).toContain(format);

    const container = resolvedString(main, { kind: 'expr', text: /blobContainer:\s*(\w+)/.exec(text)?.[1] ?? '' });
    expect(LAKE_FILE_SYSTEMS).toContain(container);
  });
});

describe('Cosmos DB', () => {
  const containers = items(varValue(main, 'cosmosContainers')).map((c) => ({
    name: resolvedString(main, entry(c, 'name')),
    partitionKey: resolvedString(main, entry(c, 'partitionKey')),
    defaultTtl: show(resolve(main, entry(c, 'defaultTtl'))),
  }));
  const declared = Object.values(COSMOS_CONTAINERS).map((c) => ({ name: c.name, partitionKey: c.partitionKey, defaultTtl: 'defaultTtl' in c ? c.defaultTtl : undefined }));

  it('declares exactly the containers of COSMOS_CONTAINERS', () => {
    expect(containers.map((c) => c.name).sort()).toEqual(declared.map((c) => c.name).sort());
  });

  it.each(declared.map((d) => [d.name, d] as const))('container %s has its partition key, and its TTL where declared', (name, decl) => {
    const c = containers.find((x) => x.name === name);
    expect(c?.partitionKey).toBe(decl.partitionKey);
    expect(c?.defaultTtl).toBe(decl.defaultTtl);
  });

  it('creates them in the database the app reads, passing partition key and TTL through', () => {
    const text = moduleText('cosmos');
    expect(text).toMatch(/\[\s*for\s+c\s+in\s+cosmosContainers\s*:/);
    expect(text).toMatch(/paths:\s*\[\s*c\.partitionKey\s*\]/);
    expect(text).toMatch(/defaultTtl:\s*c\.\?defaultTtl/);
    const db = resolvedString(main, { kind: 'expr', text: /sqlDatabases:\s*\[\s*\{\s*name:\s*(\w+)/.exec(text)?.[1] ?? '' });
    expect(db).toBeDefined();
    expect(resolvedString(main, entry(appSettings, 'CosmosDatabaseName'))).toBe(db);
    expect(SETTINGS.CosmosDatabaseName.description).toContain(`Default: ${db}.`);
  });
});

describe('the lake (ADLS Gen2)', () => {
  const lakeContainers = items(varValue(main, 'lakeContainers')).map((c) => resolvedString(main, c));
  const expected = [...Object.values(BLOB_CONTAINERS).map((c) => c.name), ...LAKE_FILE_SYSTEMS];

  it('holds exactly the blob containers of BLOB_CONTAINERS and the Capture file system', () => {
    expect(lakeContainers.slice().sort()).toEqual(expected.slice().sort());
  });

  it('is a hierarchical-namespace account creating those containers', () => {
    const text = moduleText('lake');
    expect(text).toMatch(/enableHierarchicalNamespace:\s*true/);
    expect(text).toMatch(/\[\s*for\s+c\s+in\s+lakeContainers\s*:/);
  });

  it('is where the app settings point dead letters and the archive reader', () => {
    expect(resolvedString(main, entry(appSettings, 'ArchiveLakeFileSystem'))).toBe('capture');
    expect(show(entry(appSettings, 'DeadLetterStorage__blobServiceUri'))).toEqual({ expr: 'lakeBlobEndpoint' });
    expect(show(entry(appSettings, 'ArchiveLake__dfsServiceUri'))).toEqual({ expr: 'lakeDfsEndpoint' });
    expect(show(varValue(main, 'lakeBlobEndpoint'))).toMatchObject({});
    expect(main.code).toMatch(/var lakeBlobEndpoint = 'https:\/\/\$\{lakeStorageName\}\.blob\./);
    expect(main.code).toMatch(/var lakeDfsEndpoint = 'https:\/\/\$\{lakeStorageName\}\.dfs\./);
  });
});
