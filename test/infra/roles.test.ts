/**
 * Least privilege, table-driven: every role assignment comes from one table
 * (tools/infra/access.ts → infra/generated/role-assignments.json → infra/modules/rbac.bicep).
 * For dev and prod the exact set is asserted, nothing missing, nothing extra; roles are named as
 * in AVM's built-in role maps; no Owner or Contributor; nothing grants a role outside the table.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { roleAssignmentTable } from '../../tools/infra/access';
import type { RoleAssignmentRow } from '../../tools/infra/access';
import { bicepFiles, INFRA, moduleNamed, modules, property, readBicep, REPO, statement, stringMap } from './bicep';

const rbac = readBicep(path.join(INFRA, 'modules', 'rbac.bicep'));
const main = readBicep(path.join(INFRA, 'main.bicep'));
const generated = JSON.parse(fs.readFileSync(path.join(INFRA, 'generated', 'role-assignments.json'), 'utf8')) as {
  assignments: RoleAssignmentRow[];
};

/** Role definition ids as the AVM modules' builtInRoleNames maps give them (storage-account, event-hub/namespace, insights/component; document-db for Cosmos DB). */
const AVM_ROLE_IDS: Readonly<Record<string, string>> = {
  'Azure Event Hubs Data Owner': 'f526a384-b230-433a-b45c-95f59c4a2dec',
  'Azure Event Hubs Data Receiver': 'a638d3c7-ab3a-418d-83e6-5f17a39d4fde',
  'Azure Event Hubs Data Sender': '2b629674-e913-4c01-ae53-ef4638d8f975',
  'Storage Blob Data Contributor': 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
  'Storage Blob Data Owner': 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  'Storage Blob Data Reader': '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1',
  'Storage Queue Data Contributor': '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
  'Storage Table Data Contributor': '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  'Monitoring Metrics Publisher': '3913510d-42f4-4e42-8a64-420c390055eb',
  'Cosmos DB Built-in Data Reader': '00000000-0000-0000-0000-000000000001',
  'Cosmos DB Built-in Data Contributor': '00000000-0000-0000-0000-000000000002',
};

const FORBIDDEN: Readonly<Record<string, string>> = {
  Owner: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
  Contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
  'User Access Administrator': '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9',
  'Role Based Access Control Administrator': 'f58310d9-a9f6-439a-9e8d-f62e7b41a168',
  'Storage Account Contributor': '17d1049b-9a84-46fb-8f53-869881c3d3ab',
};

/** What rbac.bicep deploys for a profile: its filter, applied to the table (the filter's text is pinned below). */
function granted(profile: 'dev' | 'prod', deployer: boolean): string[] {
  const grantDeployer = profile === 'dev' && deployer;
  return generated.assignments
    .filter((r) => r.profiles.includes(profile) && (r.principal !== 'deployer' || grantDeployer))
    .map((r) => {
      const s = r.scope;
      const where =
        s.kind === 'eventHub' || s.kind === 'cosmosDatabase'
          ? `${s.kind}:${s.name}`
          : s.kind === 'blobContainer'
            ? `${s.kind}:${s.account}/${s.name}`
            : s.kind === 'storageAccount'
              ? `${s.kind}:${s.account}`
              : s.kind;
      return `${r.principal} | ${r.role} | ${where}`;
    })
    .sort();
}

const APP_AND_CAPTURE = [
  'app | Azure Event Hubs Data Receiver | eventHub:delivery-events',
  'app | Azure Event Hubs Data Receiver | eventHub:telemetry',
  'app | Azure Event Hubs Data Sender | eventHub:delivery-events',
  'app | Cosmos DB Built-in Data Contributor | cosmosDatabase:drone-delivery',
  'app | Monitoring Metrics Publisher | appInsights',
  'app | Storage Blob Data Owner | storageAccount:host',
  'app | Storage Blob Data Reader | blobContainer:lake/capture',
  'app | Storage Queue Data Contributor | storageAccount:host',
  'app | Storage Table Data Contributor | storageAccount:host',
  'capture | Storage Blob Data Contributor | blobContainer:lake/capture',
];
const DEPLOYER = [
  'deployer | Azure Event Hubs Data Receiver | eventHub:delivery-events',
  'deployer | Azure Event Hubs Data Receiver | eventHub:telemetry',
  'deployer | Azure Event Hubs Data Sender | eventHub:delivery-events',
  'deployer | Azure Event Hubs Data Sender | eventHub:telemetry',
  'deployer | Cosmos DB Built-in Data Contributor | cosmosDatabase:drone-delivery',
  'deployer | Storage Blob Data Contributor | blobContainer:host/deadletter',
  'deployer | Storage Blob Data Reader | blobContainer:lake/capture',
];

describe('the role table', () => {
  it('is generated from tools/infra/access.ts (not edited by hand)', () => {
    expect(generated.assignments).toEqual(roleAssignmentTable());
  });

  it('dev, with a deployer: exactly the app, Capture and deployer rows', () => {
    expect(granted('dev', true)).toEqual([...APP_AND_CAPTURE, ...DEPLOYER].sort());
  });

  it('dev without a deployer principal: no deployer rows', () => {
    expect(granted('dev', false)).toEqual([...APP_AND_CAPTURE].sort());
  });

  it('prod: exactly the app and Capture rows; the deployer gets no data-plane role even when given', () => {
    expect(granted('prod', true)).toEqual([...APP_AND_CAPTURE].sort());
    expect(property(moduleNamed(main, 'rbac').text, 'deployerPrincipalId')).toBe("isProd ? '' : principalId");
  });

  it('rbac.bicep filters the table exactly so (what the expectations above evaluate)', () => {
    expect(statement(rbac, 'var', 'table').text).toBe(
      "var table = loadJsonContent('../generated/role-assignments.json').assignments",
    );
    expect(statement(rbac, 'var', 'grantDeployer').text).toBe(
      "var grantDeployer = profile == 'dev' && !empty(deployerPrincipalId)",
    );
    expect(statement(rbac, 'var', 'rows').text).toBe(
      "var rows = filter(table, r => contains(r.profiles, profile) && (r.principal != 'deployer' || grantDeployer))",
    );
  });

  it('deploys every row: one module loop per scope kind the table uses, over exactly that kind', () => {
    const kinds = [...new Set(generated.assignments.map((r) => r.scope.kind))].sort();
    const loops = modules(rbac).map((m) => {
      const rowsVar = /\[\s*for\s+r\s+in\s+(\w+)\s*:/.exec(m.text)?.[1] ?? '';
      return /r\.scope\.kind == '(\w+)'/.exec(statement(rbac, 'var', rowsVar).text)?.[1] ?? '';
    });
    expect(loops.sort()).toEqual(kinds);
    expect(modules(rbac).every((m) => m.source.startsWith('rbac/'))).toBe(true);
  });

  it("names roles as AVM does, and maps each name to AVM's id", () => {
    const map = { ...stringMap(rbac, 'builtInRoleNames'), ...stringMap(rbac, 'cosmosBuiltInRoleNames') };
    for (const [name, id] of Object.entries(map)) expect(id, name).toBe(AVM_ROLE_IDS[name]);
    const used = [...new Set(generated.assignments.map((r) => r.role))];
    expect(used.filter((r) => map[r] === undefined)).toEqual([]);
    // Cosmos DB roles only on Cosmos DB scopes, Azure roles elsewhere.
    for (const r of generated.assignments)
      expect(r.role.startsWith('Cosmos DB '), `${r.role} on ${r.scope.kind}`).toBe(r.scope.kind === 'cosmosDatabase');
  });

  it('writes every role id in the two maps only: no raw GUID elsewhere in infra', () => {
    const guid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
    for (const file of bicepFiles()) {
      const f = readBicep(file);
      const mapTexts =
        f === rbac || file.endsWith(path.join('modules', 'rbac.bicep'))
          ? ['builtInRoleNames', 'cosmosBuiltInRoleNames'].map((v) => statement(f, 'var', v).text)
          : [];
      const rest = mapTexts.reduce((code, t) => code.replace(t, ''), f.code);
      expect(rest.match(guid) ?? [], path.relative(REPO, file)).toEqual([]);
    }
  });

  it('grants no Owner, Contributor or access-administration role, by name or id, anywhere', () => {
    const all =
      bicepFiles()
        .map((f) => readBicep(f).code)
        .join('\n') + JSON.stringify(generated);
    for (const [name, id] of Object.entries(FORBIDDEN)) {
      expect(all.toLowerCase(), name).not.toContain(id);
      expect(all, name).not.toMatch(new RegExp(`'${name}'|"${name}"`));
    }
  });

  it('grants nothing outside the table: no roleAssignments or sqlRoleAssignments given to AVM modules, role resources only in modules/rbac/', () => {
    const problems: string[] = [];
    for (const file of bicepFiles()) {
      const f = readBicep(file);
      const rel = path.relative(INFRA, file);
      if (/\b(roleAssignments|sqlRoleAssignments)\s*:/.test(f.code))
        problems.push(`${rel} passes role assignments to a module`);
      const roleResources = f.statements.filter(
        (s) =>
          s.kind === 'resource' &&
          /'Microsoft\.(Authorization\/roleAssignments|DocumentDB\/databaseAccounts\/sqlRoleAssignments)@/.test(s.text),
      );
      if (roleResources.length > 0 && !rel.startsWith(`modules${path.sep}rbac${path.sep}`))
        problems.push(`${rel} declares a role assignment`);
      for (const r of roleResources)
        if (!/\n\s*name:\s*guid\(/.test(r.text)) problems.push(`${rel}: ${r.name} has no guid() name`);
    }
    expect(problems).toEqual([]);
  });

  it('scopes each assignment to the resource of its row: a hub, a container, a database (not their namespace, account)', () => {
    const scopeOf = (file: string): string =>
      property(
        statement(readBicep(path.join(INFRA, 'modules', 'rbac', file)), 'resource', 'assignment').text,
        'scope',
      ) ?? '';
    expect(scopeOf('event-hub.bicep')).toBe('namespace::hub');
    expect(scopeOf('blob-container.bicep')).toBe('account::blobService::container');
    const cosmos = readBicep(path.join(INFRA, 'modules', 'rbac', 'cosmos-database.bicep'));
    expect(statement(cosmos, 'var', 'databaseScope').text).toBe(
      "var databaseScope = '${account.id}/dbs/${databaseName}'",
    );
    expect(property(statement(cosmos, 'resource', 'assignment').text, 'scope')).toBe('databaseScope');
  });

  it('gives Capture an identity of its own, used by the namespace and nothing else', () => {
    const messaging = readBicep(path.join(INFRA, 'modules', 'messaging.bicep'));
    expect(property(moduleNamed(main, 'messaging').text, 'captureIdentityResourceId')).toBe(
      'captureIdentity.outputs.resourceId',
    );
    expect(property(moduleNamed(main, 'rbac').text, 'capturePrincipalId')).toBe('captureIdentity.outputs.principalId');
    expect(messaging.code).toMatch(/identity:\s*\{\s*userAssignedResourceId:\s*captureIdentityResourceId\s*\}/);
    expect(moduleNamed(main, 'app').text).not.toMatch(/captureIdentity/);
  });
});
