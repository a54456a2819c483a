/**
 * Role assignments are least privilege and deterministic: each names a known built-in data-plane
 * role by id, none grants Owner, Contributor or an access-administration role, each has a
 * guid() name (so redeployments are idempotent), and the app's identity holds exactly the roles
 * the pipeline needs where it needs them.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bicepFiles, entry, INFRA, modules, objectsWithKey, readBicep, REPO, resolvedString, show } from './bicep';
import type { BicepFile, BicepValue } from './bicep';

/** Built-in role definition ids (identical in every tenant), checked against the AVM modules' own tables. */
const KNOWN_ROLES: Readonly<Record<string, string>> = {
  'a638d3c7-ab3a-418d-83e6-5f17a39d4fde': 'Azure Event Hubs Data Receiver',
  '2b629674-e913-4c01-ae53-ef4638d8f975': 'Azure Event Hubs Data Sender',
  'b7e6dc6d-f1e8-4753-8033-0f276bb0955b': 'Storage Blob Data Owner',
  'ba92f5b4-2d11-453d-a403-e96b0029c9fe': 'Storage Blob Data Contributor',
  '974c5e8b-45b9-4653-ba55-5f855dd0fb88': 'Storage Queue Data Contributor',
  '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3': 'Storage Table Data Contributor',
  '3913510d-42f4-4e42-8a64-420c390055eb': 'Monitoring Metrics Publisher',
};

/** Never granted to anyone by this infrastructure. */
const FORBIDDEN_ROLES: Readonly<Record<string, string>> = {
  '8e3af657-a8ff-443c-a75c-2fe8c4bcb635': 'Owner',
  'b24988ac-6180-42a0-ab88-20f7382dd24c': 'Contributor',
  '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9': 'User Access Administrator',
  'f58310d9-a9f6-439a-9e8d-f62e7b41a168': 'Role Based Access Control Administrator',
};

/** Cosmos DB's data-plane "Cosmos DB Built-in Data Contributor". */
const COSMOS_DATA_CONTRIBUTOR = '00000000-0000-0000-0000-000000000002';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Assignment {
  readonly file: string;
  readonly role: string | undefined;
  readonly name: BicepValue | undefined;
  readonly principalId: unknown;
  readonly kind: 'azure' | 'cosmos';
}

/** The role definition GUID a `roleDefinitionId(OrName)` value names (literal, var, or subscriptionResourceId(…)). */
function roleGuid(file: BicepFile, v: BicepValue | undefined): string | undefined {
  const direct = resolvedString(file, v);
  if (direct !== undefined) return direct.split('/').pop();
  if (v?.kind !== 'expr') return undefined;
  const arg = /roleDefinitions'\s*,\s*([^)]+)\)/.exec(v.text)?.[1]?.trim();
  if (!arg) return undefined;
  return resolvedString(file, arg.startsWith("'") ? { kind: 'string', value: arg.slice(1, -1), interpolated: false } : { kind: 'expr', text: arg });
}

function assignmentsIn(file: BicepFile, text: string): Assignment[] {
  const rel = path.relative(REPO, file.file);
  const azure = objectsWithKey(text, 'roleDefinitionIdOrName').map((o) => ({
    file: rel,
    role: roleGuid(file, entry(o, 'roleDefinitionIdOrName')),
    name: entry(o, 'name'),
    principalId: show(entry(o, 'principalId')),
    kind: 'azure' as const,
  }));
  // `roleDefinitionId:` is an AVM Cosmos DB sqlRoleAssignment or a plain roleAssignments resource's property.
  const direct = objectsWithKey(text, 'roleDefinitionId').map((o) => {
    const role = roleGuid(file, entry(o, 'roleDefinitionId'));
    return { file: rel, role, name: entry(o, 'name'), principalId: show(entry(o, 'principalId')), kind: role?.startsWith('00000000-0000-0000-0000-') ? ('cosmos' as const) : ('azure' as const) };
  });
  return [...azure, ...direct];
}

const files = bicepFiles().map(readBicep);
const all = files.flatMap((f) => assignmentsIn(f, f.code));
/** Plain `Microsoft.Authorization/roleAssignments` resources: their name sits on the resource, not in properties. */
const plainResources = files.flatMap((f) =>
  f.statements.filter((s) => s.kind === 'resource' && /'Microsoft\.Authorization\/roleAssignments@/.test(s.text)).map((s) => ({ file: path.relative(REPO, f.file), text: s.text })),
);

const main = files.find((f) => f.file === path.join(INFRA, 'main.bicep'));
if (!main) throw new Error('infra/main.bicep is missing');

/** Role assignments a module receives: in its body, or in vars its body names. */
function moduleAssignments(symbol: string): Assignment[] {
  const m = modules(main as BicepFile).find((x) => x.symbol === symbol);
  if (!m) throw new Error(`main.bicep has no module ${symbol}`);
  const varTexts = (main as BicepFile).statements.filter((s) => s.kind === 'var' && new RegExp(`\\b${s.name}\\b`).test(m.text)).map((s) => s.text);
  return [m.text, ...varTexts].flatMap((t) => assignmentsIn(main as BicepFile, t));
}

const APP = { expr: 'identity.outputs.principalId' };

describe('role assignments', () => {
  it('exist', () => {
    expect(all.length).toBeGreaterThan(0);
  });

  it('name only known built-in data-plane roles, by id', () => {
    const unknown = all.filter((a) => a.kind === 'azure' && (a.role === undefined || !GUID.test(a.role) || KNOWN_ROLES[a.role.toLowerCase()] === undefined));
    expect(unknown.map((a) => `${a.file}: ${a.role ?? '(unresolved)'}`)).toEqual([]);
  });

  it('never grant Owner, Contributor or an access-administration role', () => {
    const text = files.map((f) => f.code).join('\n').toLowerCase();
    const granted = Object.entries(FORBIDDEN_ROLES).filter(([id]) => text.includes(id)).map(([, n]) => n);
    expect(granted).toEqual([]);
    expect(all.filter((a) => a.role !== undefined && FORBIDDEN_ROLES[a.role.toLowerCase()] !== undefined)).toEqual([]);
    expect(files.map((f) => f.code).join('\n')).not.toMatch(/roleDefinitionIdOrName:\s*'(Owner|Contributor|User Access Administrator|Role Based Access Control Administrator)'/);
  });

  it('in Cosmos DB use only the built-in data contributor', () => {
    const cosmos = all.filter((a) => a.kind === 'cosmos');
    expect(cosmos.length).toBeGreaterThan(0);
    expect(cosmos.filter((a) => a.role !== COSMOS_DATA_CONTRIBUTOR)).toEqual([]);
  });

  it('all have a guid() name', () => {
    const unnamed = all.filter((a) => a.name?.kind !== 'expr' || !a.name.text.startsWith('guid('));
    expect(unnamed.map((a) => `${a.file}: ${a.role ?? '?'}`)).toEqual([]);
    for (const r of plainResources) expect(r.text, r.file).toMatch(/\n\s*name:\s*guid\(/);
  });
});

describe("the app's managed identity holds", () => {
  const expectRoles = (symbol: string, roles: readonly string[]): void => {
    const held = moduleAssignments(symbol)
      .filter((a) => JSON.stringify(a.principalId) === JSON.stringify(APP))
      .map((a) => a.role);
    for (const role of roles) expect(held, `${symbol}: ${KNOWN_ROLES[role] ?? role}`).toContain(role);
  };

  it('Event Hubs Data Receiver and Data Sender on the namespace', () => {
    expectRoles('eventHubs', ['a638d3c7-ab3a-418d-83e6-5f17a39d4fde', '2b629674-e913-4c01-ae53-ef4638d8f975']);
  });

  it('Blob Data Owner, Queue and Table Data Contributor on the host storage (Durable Functions)', () => {
    expectRoles('hostStorage', ['b7e6dc6d-f1e8-4753-8033-0f276bb0955b', '974c5e8b-45b9-4653-ba55-5f855dd0fb88', '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3']);
  });

  it('Blob Data Contributor on the lake (the app, and Capture running as the same identity)', () => {
    expectRoles('lake', ['ba92f5b4-2d11-453d-a403-e96b0029c9fe']);
  });

  it('Monitoring Metrics Publisher on Application Insights', () => {
    expectRoles('appInsights', ['3913510d-42f4-4e42-8a64-420c390055eb']);
  });

  it('Cosmos DB Built-in Data Contributor on the account', () => {
    expectRoles('cosmos', [COSMOS_DATA_CONTRIBUTOR]);
  });
});
