/**
 * The Bicep conventions of Azure Verified Modules (infra/README.md): every parameter described
 * as Required or Optional (and declared accordingly), registry modules pinned, local modules
 * outputting `name` and `resourceId`, main.bicep split into modules, local auth off wherever it exists, and no secret, key, SAS
 * or connection string anywhere in infra/, azure.yaml or the sample settings.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bicepFiles, INFRA, modules, outputs, params, readBicep, REPO } from './bicep';

const files = bicepFiles().map(readBicep);
const rel = (f: string): string => path.relative(REPO, f);
const localModules = files.filter((f) => f.file.startsWith(path.join(INFRA, 'modules') + path.sep));

/** Each registry module (by path) or resource type that has a local-auth switch, and the setting that turns it off. */
const LOCAL_AUTH: readonly { readonly avm: string; readonly type: string; readonly setting: RegExp }[] = [
  {
    avm: 'avm/res/event-hub/namespace',
    type: 'Microsoft.EventHub/namespaces',
    setting: /\bdisableLocalAuth:\s*true\b/,
  },
  {
    avm: 'avm/res/document-db/database-account',
    type: 'Microsoft.DocumentDB/databaseAccounts',
    setting: /\bdisableLocalAuthentication:\s*true\b/,
  },
  { avm: 'avm/res/insights/component', type: 'Microsoft.Insights/components', setting: /\bdisableLocalAuth:\s*true\b/ },
  {
    avm: 'avm/res/operational-insights/workspace',
    type: 'Microsoft.OperationalInsights/workspaces',
    setting: /\bdisableLocalAuth:\s*true\b/,
  },
  {
    avm: 'avm/res/storage/storage-account',
    type: 'Microsoft.Storage/storageAccounts',
    setting: /\ballowSharedKeyAccess:\s*false\b/,
  },
];

describe.each(files.map((f) => [rel(f.file), f] as const))('%s', (_name, file) => {
  it('describes every parameter as Required or Optional, and declares it so', () => {
    const problems = params(file).flatMap((p) => {
      const d = p.description;
      if (!d || !/^(Required|Optional)\. \S/.test(d))
        return [`${p.name}: description must start with "Required. " or "Optional. "`];
      if (d.startsWith('Required.') && (p.hasDefault || p.nullable)) return [`${p.name}: Required but has a default`];
      if (d.startsWith('Optional.') && !p.hasDefault && !p.nullable) return [`${p.name}: Optional but has no default`];
      return [];
    });
    expect(problems).toEqual([]);
  });

  it('pins every registry module to an exact version and finds every local one', () => {
    const problems = modules(file).flatMap((m) => {
      if (m.source.startsWith('br/public:') || m.source.startsWith('br:'))
        return /:\d+\.\d+\.\d+$/.test(m.source) ? [] : [`${m.symbol}: ${m.source} is not pinned`];
      return fs.existsSync(path.resolve(path.dirname(file.file), m.source))
        ? []
        : [`${m.symbol}: ${m.source} does not exist`];
    });
    expect(problems).toEqual([]);
  });

  it('turns local auth off wherever the service has it', () => {
    const problems: string[] = [];
    for (const m of modules(file)) {
      const rule = LOCAL_AUTH.find((r) => m.source.includes(`${r.avm}:`));
      if (rule && !rule.setting.test(m.text)) problems.push(`${m.symbol} (${rule.avm}) lacks ${rule.setting.source}`);
    }
    for (const s of file.statements.filter(
      (x) => x.kind === 'resource' && !/\bexisting\b/.test(x.text.split('\n')[0] ?? ''),
    )) {
      const rule = LOCAL_AUTH.find((r) => s.text.includes(`'${r.type}@`));
      if (rule && !rule.setting.test(s.text)) problems.push(`${s.name} (${rule.type}) lacks ${rule.setting.source}`);
    }
    expect(problems).toEqual([]);
  });
});

describe('local modules (infra/modules)', () => {
  it.each(localModules.map((f) => [rel(f.file), f] as const))(
    '%s outputs name and resourceId of what it deploys',
    (_name, file) => {
      // rbac.bicep deploys many assignments: it outputs their names and ids.
      const expected = file.file.endsWith(`${path.sep}rbac.bicep`)
        ? ['roleAssignmentNames', 'roleAssignmentResourceIds']
        : ['name', 'resourceId'];
      expect(outputs(file)).toEqual(expect.arrayContaining(expected));
    },
  );

  it('are only used where no Azure Verified Module fits (everything else is br/public:avm), and live under infra/modules', () => {
    for (const f of files) {
      for (const m of modules(f).filter((x) => !x.source.startsWith('br/public:avm/'))) {
        expect(
          path.resolve(path.dirname(f.file), m.source).startsWith(path.join(INFRA, 'modules') + path.sep),
          `${rel(f.file)}: ${m.source}`,
        ).toBe(true);
      }
    }
  });

  it('split main.bicep into monitoring, network, data, messaging, app, console and one rbac', () => {
    const main = readBicep(path.join(INFRA, 'main.bicep'));
    expect(
      modules(main)
        .filter((m) => m.source.startsWith('modules/'))
        .map((m) => m.source)
        .sort(),
    ).toEqual([
      'modules/app.bicep',
      'modules/console.bicep',
      'modules/data.bicep',
      'modules/messaging.bicep',
      'modules/monitoring.bicep',
      'modules/network.bicep',
      'modules/rbac.bicep',
    ]);
    expect(
      modules(main)
        .filter((m) => m.source.startsWith('br/public:'))
        .map((m) => /avm\/res\/([\w/-]+):/.exec(m.source)?.[1])
        .sort(),
    ).toEqual([
      'managed-identity/user-assigned-identity',
      'managed-identity/user-assigned-identity',
      'resources/resource-group',
    ]);
  });
});

describe('infra/main.bicep and its app module', () => {
  const main = readBicep(path.join(INFRA, 'main.bicep'));
  const app = readBicep(path.join(INFRA, 'modules', 'app.bicep'));

  it('deploys at subscription scope and creates the resource group', () => {
    expect(main.code).toMatch(/^targetScope = 'subscription'/m);
    expect(modules(main).some((m) => m.source.startsWith('br/public:avm/res/resources/resource-group:'))).toBe(true);
  });

  it('runs the app on Flex Consumption, Node 22, with the package pulled by identity', () => {
    const plan = modules(app).find((m) => m.source.startsWith('br/public:avm/res/web/serverfarm:'));
    expect(plan?.text).toMatch(/skuName:\s*'FC1'/);
    const site = modules(app).find((m) => m.source.startsWith('br/public:avm/res/web/site:'));
    expect(site?.text).toMatch(/runtime:\s*\{\s*name:\s*'node'\s*version:\s*'22'\s*\}/);
    expect(site?.text).toMatch(/authentication:\s*\{\s*type:\s*'UserAssignedIdentity'/);
    expect(site?.text).toMatch(/'azd-service-name':\s*'api'/);
    expect(site?.text).toMatch(/name:\s*'scm'\s*allow:\s*false/);
  });

  it('offers API Management only in prod, with a rate-limit-by-key policy', () => {
    expect(main.code).toMatch(/var deployApiManagement = isProd && enableApiManagement/);
    const apim = modules(app).find((m) => m.source.startsWith('br/public:avm/res/api-management/service:'));
    expect(apim?.text).toMatch(/=\s*if\s*\(deployApiManagement\)/);
    const policy = fs.readFileSync(path.join(INFRA, 'policies', 'rate-limit-by-key.xml'), 'utf8');
    expect(policy).toMatch(/<rate-limit-by-key\s[^>]*counter-key=/);
  });

  it('outputs what azd, the hooks and the README need', () => {
    expect(outputs(main)).toEqual(
      expect.arrayContaining([
        'AZURE_FUNCTION_APP_NAME',
        'AZURE_RESOURCE_GROUP',
        'API_BASE_URL',
        'EVENTHUBS_FULLY_QUALIFIED_NAMESPACE',
        'COSMOS_ENDPOINT',
        'DEADLETTER_BLOB_ENDPOINT',
        'LAKE_DFS_ENDPOINT',
      ]),
    );
    const hook = fs.readFileSync(path.join(INFRA, 'hooks', 'postprovision.mjs'), 'utf8');
    const read = [...hook.matchAll(/need\('([A-Z_]+)'\)|env\.([A-Z_]+)/g)]
      .map((m) => m[1] ?? m[2] ?? '')
      .filter((n) => n !== '');
    expect(read.filter((n) => !outputs(main).includes(n))).toEqual([]);
  });
});

describe('no secrets', () => {
  /** Things that are, or fetch, a credential. */
  const PATTERNS: readonly RegExp[] = [
    /AccountKey=/i,
    /SharedAccessKey/i,
    /SharedAccessSignature/i,
    /listKeys\s*\(/i,
    /listConnectionStrings/i,
    /connectionString/i,
    /primaryKey/i,
    /secondaryKey/i,
    /masterKey/i,
    /[?&;\s'"]sig=/i,
    /@secure\(\)/,
  ];
  /**
   * The one allowed mention: Application Insights' connection string names where telemetry goes
   * and carries no credential; with local auth disabled, ingestion needs the Entra token.
   */
  const ALLOWED =
    /APPLICATIONINSIGHTS_CONNECTION_STRING:\s*appInsightsConnectionString|\bappInsightsConnectionString\b|appInsights\.outputs\.connectionString/g;

  const targets: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else targets.push(full);
    }
  };
  walk(INFRA);
  targets.push(path.join(REPO, 'azure.yaml'), path.join(REPO, 'local.settings.sample.json'));

  it.each(targets.map((f) => rel(f)))('none in %s', (file) => {
    const text = fs.readFileSync(path.join(REPO, file), 'utf8').replace(ALLOWED, '');
    expect(PATTERNS.filter((p) => p.test(text)).map((p) => p.source)).toEqual([]);
  });
});
