/**
 * Secure by default, for both profiles: no deployment without sign-in (App Service
 * Authentication always on, requiring it, 401 for the unauthenticated, health excluded; no
 * deployment without a client id, which the preprovision hook creates); in prod no public
 * network access to Cosmos DB, Event Hubs and host storage (private endpoints), the lake's public
 * endpoint denying every network but the Capture namespace, the app VNet-integrated and reachable
 * only from API Management when that is on, and the capture container immutable.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { branch, INFRA, moduleNamed, params, property, readBicep, REPO, statement } from './bicep';

const main = readBicep(path.join(INFRA, 'main.bicep'));
const app = readBicep(path.join(INFRA, 'modules', 'app.bicep'));
const data = readBicep(path.join(INFRA, 'modules', 'data.bicep'));
const messaging = readBicep(path.join(INFRA, 'modules', 'messaging.bicep'));
const network = readBicep(path.join(INFRA, 'modules', 'network.bicep'));

type Profile = 'dev' | 'prod';
const PROFILES: readonly Profile[] = ['dev', 'prod'];

/** What main.bicep hands a module's parameter in a profile (`isProd ? a : b` resolved). */
function mainArgument(module: string, param: string, profile: Profile): string {
  const value = property(moduleNamed(main, module).text, param);
  if (value === undefined) throw new Error(`main.bicep passes no ${param} to ${module}`);
  return value.includes('?') ? branch(value, profile === 'prod') : value;
}

/** Whether a module's `isolated` (private endpoint subnet given) holds in a profile. */
const isolatedIn = (module: string, profile: Profile): boolean =>
  mainArgument(module, 'privateEndpointSubnetResourceId', profile) !== "''";

describe('sign-in', () => {
  const auth = statement(app, 'var', 'authSettings').text;

  it.each(PROFILES)('%s: App Service Authentication is configured on the app, unconditionally', () => {
    // The configs list carries it with no condition on profile or client id.
    expect(property(moduleNamed(app, 'functionApp').text, 'configs')).toBe('[');
    expect(moduleNamed(app, 'functionApp').text).toMatch(
      /configs:\s*\[\s*\{\s*name:\s*'appsettings'[\s\S]*?\}\s*authSettings\s*\]/,
    );
    expect(auth).not.toMatch(/isProd|profile|empty\(/);
  });

  it('requires authentication, answers 401 to the unauthenticated, and excludes only health', () => {
    expect(auth).toMatch(/name:\s*'authsettingsV2'/);
    expect(auth).toMatch(/platform:\s*\{\s*enabled:\s*true\s*\}/);
    expect(auth).toMatch(/requireAuthentication:\s*true/);
    expect(auth).toMatch(/unauthenticatedClientAction:\s*'Return401'/);
    expect(auth).toMatch(/excludedPaths:\s*\[\s*'\/api\/health'\s*\]/);
    expect(auth).toMatch(/azureActiveDirectory:\s*\{\s*enabled:\s*true/);
    expect(auth).toMatch(/allowedAudiences:\s*\[\s*'api:\/\/\$\{authClientId\}'\s*authClientId\s*\]/);
  });

  it('stops without a client id: authClientId is required (no default), a 36-character application id', () => {
    for (const file of [main, app]) {
      const p = params(file).find((x) => x.name === 'authClientId');
      expect(p?.hasDefault, file.file).toBe(false);
      expect(p?.description, file.file).toMatch(/^Required\./);
      expect(p?.decorators).toEqual(expect.arrayContaining(['@minLength(36)', '@maxLength(36)']));
    }
    const parameters = JSON.parse(fs.readFileSync(path.join(INFRA, 'main.parameters.json'), 'utf8')) as {
      parameters: Record<string, { value: string }>;
    };
    expect(parameters.parameters.authClientId?.value).toBe('${AUTH_CLIENT_ID}');
  });

  it('azd runs the preprovision hook that creates the app registration before provisioning', () => {
    const yaml = fs.readFileSync(path.join(REPO, 'azure.yaml'), 'utf8');
    expect(yaml).toMatch(/preprovision:\s*\n(?:.*\n)*?\s*run: \.\/infra\/hooks\/preprovision\.sh/);
    expect(yaml).toMatch(/run: node \.\/infra\/hooks\/preprovision\.mjs/);
    expect(fs.statSync(path.join(INFRA, 'hooks', 'preprovision.sh')).mode & 0o111).not.toBe(0);
  });
});

describe.each(PROFILES)('network, %s', (profile) => {
  const prod = profile === 'prod';

  it(prod ? 'deploys the network (VNet, subnets, private DNS zones)' : 'deploys no network', () => {
    expect(moduleNamed(main, 'network').text).toMatch(/=\s*if\s*\(isProd\)/);
    expect(isolatedIn('data', profile)).toBe(prod);
    expect(isolatedIn('messaging', profile)).toBe(prod);
  });

  it(
    prod
      ? 'turns public network access off for Cosmos DB, Event Hubs and host storage'
      : 'leaves public endpoints on (protected by Entra ID)',
    () => {
      expect(statement(data, 'var', 'isolated').text).toBe('var isolated = !empty(privateEndpointSubnetResourceId)');
      expect(statement(messaging, 'var', 'isolated').text).toBe(
        'var isolated = !empty(privateEndpointSubnetResourceId)',
      );
      const expected = prod ? "'Disabled'" : "'Enabled'";
      expect(branch(/=\s*(.+)$/.exec(statement(data, 'var', 'publicNetworkAccess').text)?.[1] ?? '', prod)).toBe(
        expected,
      );
      expect(property(moduleNamed(data, 'hostStorage').text, 'publicNetworkAccess')).toBe('publicNetworkAccess');
      expect(moduleNamed(data, 'cosmos').text).toMatch(
        /networkRestrictions:\s*\{\s*publicNetworkAccess:\s*publicNetworkAccess/,
      );
      expect(branch(property(moduleNamed(messaging, 'namespace').text, 'publicNetworkAccess') ?? '', prod)).toBe(
        expected,
      );
    },
  );

  it(
    prod
      ? 'lets the lake admit only the Capture namespace on its public endpoint (Capture cannot use a private endpoint)'
      : 'leaves the lake endpoint open',
    () => {
      const lake = moduleNamed(data, 'lake').text;
      expect(property(lake, 'publicNetworkAccess')).toBe("'Enabled'");
      const acls = /networkAcls: isolated\s*\?\s*(\{[\s\S]*?\})\s*:\s*networkAcls/.exec(lake)?.[1] ?? '';
      expect(acls).toMatch(/defaultAction:\s*'Deny'/);
      expect(acls).toMatch(
        /resourceAccessRules:\s*\[\s*\{\s*tenantId:\s*tenant\(\)\.tenantId\s*resourceId:\s*resourceId\('Microsoft\.EventHub\/namespaces', eventHubsNamespaceName\)/,
      );
      expect(acls).toMatch(/ipRules:\s*\[\s*\]/);
      expect(property(moduleNamed(main, 'data').text, 'eventHubsNamespaceName')).toBe('eventHubsNamespaceName');
    },
  );

  it(prod ? 'gives each data service its private endpoints' : 'creates no private endpoint', () => {
    const endpoints = (text: string): string[] =>
      [...text.matchAll(/endpoint\(privateEndpointSubnetResourceId, '(\w+)'/g)].map((m) => m[1] ?? '');
    expect(endpoints(moduleNamed(data, 'hostStorage').text)).toEqual(['blob', 'queue', 'table']);
    expect(endpoints(moduleNamed(data, 'lake').text)).toEqual(['blob', 'dfs']);
    expect(endpoints(moduleNamed(data, 'cosmos').text)).toEqual(['Sql']);
    expect(moduleNamed(messaging, 'namespace').text).toMatch(
      /privateEndpoints: isolated\s*\?\s*\[\s*\{\s*service:\s*'namespace'/,
    );
    for (const m of ['hostStorage', 'lake', 'cosmos'])
      expect(moduleNamed(data, m).text, m).toMatch(/privateEndpoints: isolated\s*\?/);
    expect(statement(network, 'var', 'privateDnsZones').text).toMatch(
      /blob:[\s\S]*queue:[\s\S]*table:[\s\S]*dfs:[\s\S]*cosmosSql: 'privatelink\.documents\.azure\.com'[\s\S]*eventHubs: 'privatelink\.servicebus\.windows\.net'/,
    );
  });

  it(prod ? 'integrates the Flex Consumption app with the VNet' : 'runs the app without VNet integration', () => {
    expect(mainArgument('app', 'appSubnetResourceId', profile)).toBe(
      prod ? 'network.outputs.appSubnetResourceId' : "''",
    );
    expect(property(moduleNamed(app, 'functionApp').text, 'virtualNetworkSubnetResourceId')).toBe(
      'empty(appSubnetResourceId) ? null : appSubnetResourceId',
    );
    expect(moduleNamed(network, 'vnet').text).toMatch(
      /name:\s*'app'\s*addressPrefix:\s*appSubnetPrefix\s*delegation:\s*'Microsoft\.App\/environments'/,
    );
  });

  it(
    prod
      ? 'puts an immutability policy (time-based retention) on the capture container'
      : 'puts no immutability policy on the capture container',
    () => {
      const policy = statement(data, 'var', 'captureImmutability').text;
      expect(policy).toMatch(/= isProd\s*\?/);
      expect(policy).toMatch(
        /immutabilityPolicyProperties:\s*\{\s*immutabilityPeriodSinceCreationInDays:\s*captureImmutabilityDays\s*allowProtectedAppendWrites:\s*false\s*\}/,
      );
      expect(policy).toMatch(/:\s*\{\}\s*$/);
      expect(moduleNamed(data, 'lake').text).toMatch(/c == resources\.captureFileSystem \? captureImmutability : \{\}/);
      expect(property(moduleNamed(main, 'data').text, 'captureImmutabilityDays')).toBe('captureImmutabilityDays');
      expect(params(main).find((p) => p.name === 'captureImmutabilityDays')?.description).toMatch(/prod only/);
    },
  );
});

describe('the function app behind API Management', () => {
  it('admits only API Management when it is deployed (prod with enableApiManagement)', () => {
    expect(property(moduleNamed(main, 'app').text, 'deployApiManagement')).toBe('deployApiManagement');
    expect(moduleNamed(app, 'functionApp').text).toMatch(/deployApiManagement \? apimOnlyRestrictions : \{\}/);
    const r = statement(app, 'var', 'apimOnlyRestrictions').text;
    expect(r).toMatch(/ipSecurityRestrictionsDefaultAction:\s*'Deny'/);
    expect(r).toMatch(/action:\s*'Allow'[\s\S]*tag:\s*'ServiceTag'\s*ipAddress:\s*'ApiManagement'/);
    expect([...r.matchAll(/action:\s*'Allow'/g)]).toHaveLength(1);
  });
});
