/**
 * Generated, not copied: hubs, consumer groups, Capture, containers, the database, setting names
 * and defaults reach Bicep only through infra/generated/*.json (`npm run gen:infra`), which the
 * templates read with loadJsonContent(). The files are checked fresh against the code, and no
 * template spells a name the code declares.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BLOB_CONTAINERS,
  COSMOS_CONTAINERS,
  COSMOS_DATABASE,
  EVENT_HUBS,
  LAKE_FILE_SYSTEMS,
} from '../../functions/resources';
import { GENERATED_DIR, generatedFiles, staleFiles } from '../../tools/infra/generate';
import { bicepFiles, INFRA, moduleNamed, property, readBicep, REPO, statement } from './bicep';

const read = (name: string): Record<string, unknown> =>
  JSON.parse(fs.readFileSync(path.join(INFRA, 'generated', name), 'utf8')) as Record<string, unknown>;
const modulesDir = path.join(INFRA, 'modules');
const messaging = readBicep(path.join(modulesDir, 'messaging.bicep'));
const data = readBicep(path.join(modulesDir, 'data.bicep'));

describe('infra/generated', () => {
  it('is where gen:infra writes', () => {
    expect(GENERATED_DIR).toBe(path.join(INFRA, 'generated'));
    expect(JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')).scripts['gen:infra']).toMatch(
      /tools\/infra\/generate\.js/,
    );
  });

  it('is up to date with the code (run `npm run gen:infra` when this fails)', () => {
    expect(staleFiles()).toEqual([]);
  });

  it('a stale file is detected', () => {
    const dir = fs.mkdtempSync(path.join(REPO, '.tmp-gen-'));
    try {
      for (const [name, content] of Object.entries(generatedFiles())) fs.writeFileSync(path.join(dir, name), content);
      expect(staleFiles(dir)).toEqual([]);
      const resources = JSON.parse(fs.readFileSync(path.join(dir, 'resources.json'), 'utf8')) as {
        eventHubs: { name: string }[];
      };
      resources.eventHubs.push({ name: 'extra' });
      fs.writeFileSync(path.join(dir, 'resources.json'), JSON.stringify(resources, null, 2));
      fs.rmSync(path.join(dir, 'app-roles.json'));
      expect(staleFiles(dir).sort()).toEqual(['app-roles.json', 'resources.json']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('resources.json holds what functions/resources.ts declares', () => {
    const r = read('resources.json');
    expect(r.eventHubs).toEqual(
      EVENT_HUBS.map((h) => ({
        name: h.name,
        partitionKey: h.partitionKey,
        consumerGroups: h.consumerGroups.map((c) => c.name),
        capture: h.capture,
        partitionCount: h.partitionCount,
      })),
    );
    expect(r.cosmosDatabase).toBe(COSMOS_DATABASE);
    expect((r.cosmosContainers as { name: string }[]).map((c) => c.name).sort()).toEqual(
      Object.values(COSMOS_CONTAINERS)
        .map((c) => c.name)
        .sort(),
    );
    expect(r.cosmosContainers).toContainEqual({ name: 'deliveryStatus', partitionKey: '/id', defaultTtl: -1 });
    expect(r.hostContainers).toEqual([BLOB_CONTAINERS.deadLetter.name]);
    expect(r.lakeFileSystems).toEqual([LAKE_FILE_SYSTEMS.capture.name]);
  });
});

describe('the templates read the generated files', () => {
  it.each([
    ['modules/data.bicep', 'resources.json'],
    ['modules/messaging.bicep', 'resources.json'],
    ['modules/app.bicep', 'app-settings.json'],
    ['modules/rbac.bicep', 'role-assignments.json'],
    ['main.bicep', 'resources.json'],
  ])('%s loads %s', (file, json) => {
    expect(readBicep(path.join(INFRA, file)).code).toContain(
      `loadJsonContent('${file.startsWith('modules/') ? '../' : ''}generated/${json}')`,
    );
  });

  it('no template spells a hub, consumer group, container, database or file system name the code declares', () => {
    const names = [
      ...EVENT_HUBS.flatMap((h) => [h.name, ...h.consumerGroups.map((c) => c.name)]),
      ...Object.values(COSMOS_CONTAINERS).map((c) => c.name),
      ...Object.values(BLOB_CONTAINERS).map((c) => c.name),
      ...Object.values(LAKE_FILE_SYSTEMS).map((c) => c.name),
      COSMOS_DATABASE,
    ];
    const found = bicepFiles().flatMap((file) => {
      const code = readBicep(file).code;
      return names.filter((n) => code.includes(`'${n}'`)).map((n) => `${path.relative(INFRA, file)}: '${n}'`);
    });
    expect(found).toEqual([]);
  });

  it('creates the hubs from the list, consumer groups and partition counts included, with no SAS rules', () => {
    const ns = moduleNamed(messaging, 'namespace').text;
    expect(ns).toMatch(/eventhubs:\s*\[\s*for\s+hub\s+in\s+resources\.eventHubs\s*:/);
    expect(ns).toMatch(/consumergroups:[^\n]*hub\.consumerGroups/);
    expect(property(ns, 'partitionCount')).toBe('partitionCountOverrides[?hub.name] ?? hub.partitionCount[profile]');
    expect(ns).toMatch(/authorizationRules:\s*\[\s*\]/);
    expect(ns).toMatch(/skuName:\s*'Standard'/);
  });

  it('captures the hubs that declare it into the lake as Avro, in the layout the archive reader parses', () => {
    const ns = moduleNamed(messaging, 'namespace').text;
    expect(ns).toMatch(/captureDescription:\s*hub\.capture/);
    expect(ns).toMatch(/encoding:\s*'Avro'/);
    expect(property(ns, 'blobContainer')).toBe('resources.captureFileSystem');
    expect(property(ns, 'storageAccountResourceId')).toBe('lakeResourceId');
    const format = /'([^']+)'/.exec(statement(messaging, 'var', 'captureArchiveNameFormat').text)?.[1] ?? '';
    expect(format).toBe('{Namespace}/{EventHub}/{PartitionId}/{Year}/{Month}/{Day}/{Hour}/{Minute}/{Second}');
    expect(fs.readFileSync(path.join(REPO, 'functions', 'adapters', 'capture-format.ts'), 'utf8')).toContain(format);
  });

  it('creates the Cosmos DB database and containers from the list, partition key and TTL passed through', () => {
    const cosmos = moduleNamed(data, 'cosmos').text;
    expect(cosmos).toMatch(/sqlDatabases:\s*\[\s*\{\s*name:\s*resources\.cosmosDatabase/);
    expect(cosmos).toMatch(/\[\s*for\s+c\s+in\s+resources\.cosmosContainers\s*:/);
    expect(cosmos).toMatch(/paths:\s*\[\s*c\.partitionKey\s*\]/);
    expect(cosmos).toMatch(/defaultTtl:\s*c\.\?defaultTtl/);
  });

  it('creates the host containers (dead letters) and the lake file systems from the lists', () => {
    expect(moduleNamed(data, 'hostStorage').text).toMatch(
      /\[\s*for\s+c\s+in\s+concat\(\[deploymentContainerName\],\s*resources\.hostContainers\)\s*:/,
    );
    const lake = moduleNamed(data, 'lake').text;
    expect(lake).toMatch(/enableHierarchicalNamespace:\s*true/);
    expect(lake).toMatch(/\[\s*for\s+c\s+in\s+resources\.lakeFileSystems\s*:/);
  });
});
