/**
 * App settings in three places agree: what the code reads (functions/config.ts SETTINGS, the
 * %Name% references of host.json and the bindings), what Bicep sets on the function app
 * (infra/modules/app.bicep: the generated infra/generated/app-settings.json, united with its
 * var deploymentSettings) and what local.settings.sample.json offers.
 * Every `app` setting is in both files; nothing else is, except the host/platform settings
 * allowed below; `emulator` settings are in no Bicep file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SETTINGS } from '../../functions/config';
import type { SettingSpec } from '../../functions/config';
import { documentedDefault as generatorDefault } from '../../tools/infra/generate';
import { bicepFiles, INFRA, objectKeys, readBicep, REPO, statement } from './bicep';

/**
 * Settings the code does not read through SETTINGS but the host or platform does. `azure`: set
 * by Bicep only; `local`: in local.settings.sample.json only; `both`.
 */
const PLATFORM_SETTINGS: Readonly<
  Record<string, { readonly where: 'azure' | 'local' | 'both'; readonly why: string }>
> = {
  // The language worker locally; Flex Consumption takes it from functionAppConfig.runtime instead.
  FUNCTIONS_WORKER_RUNTIME: { where: 'local', why: 'Core Tools needs it; Flex Consumption rejects it' },
  // Azurite locally ("UseDevelopmentStorage=true"); in Azure only the identity-based form below.
  AzureWebJobsStorage: { where: 'local', why: 'host storage on Azurite' },
  AzureWebJobsStorage__accountName: { where: 'azure', why: 'identity-based host storage' },
  AzureWebJobsStorage__credential: { where: 'azure', why: 'identity-based host storage (managedidentity)' },
  AzureWebJobsStorage__clientId: { where: 'azure', why: 'which user-assigned identity the host uses' },
  // host.json: durableTask.hubName = %DurableTaskHubName%.
  DurableTaskHubName: { where: 'both', why: 'Durable Functions task hub (host.json)' },
  // DefaultAzureCredential in the composition root picks the user-assigned identity by it.
  AZURE_CLIENT_ID: { where: 'azure', why: 'DefaultAzureCredential selects the user-assigned identity' },
  APPLICATIONINSIGHTS_CONNECTION_STRING: {
    where: 'azure',
    why: 'telemetry destination (no credential: local auth is off)',
  },
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: { where: 'azure', why: 'Entra-authenticated ingestion' },
  // The bindings' identity-based connections: the SDK side reads only the endpoint settings.
  EventHubConnection__credential: { where: 'azure', why: 'Event Hubs binding uses the managed identity' },
  EventHubConnection__clientId: { where: 'azure', why: 'Event Hubs binding: which identity' },
  CosmosConnection__credential: { where: 'azure', why: 'Cosmos DB binding uses the managed identity' },
  CosmosConnection__clientId: { where: 'azure', why: 'Cosmos DB binding: which identity' },
};

/** App settings Flex Consumption no longer accepts (its runtime and scale live in functionAppConfig). */
const FLEX_UNSUPPORTED = [
  'FUNCTIONS_EXTENSION_VERSION',
  'FUNCTIONS_WORKER_RUNTIME',
  'FUNCTIONS_WORKER_RUNTIME_VERSION',
  'FUNCTIONS_MAX_HTTP_CONCURRENCY',
  'FUNCTIONS_WORKER_PROCESS_COUNT',
  'FUNCTIONS_WORKER_DYNAMIC_CONCURRENCY_ENABLED',
  'SCM_DO_BUILD_DURING_DEPLOYMENT',
  'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING',
  'WEBSITE_CONTENTOVERVNET',
  'WEBSITE_CONTENTSHARE',
  'WEBSITE_MAX_DYNAMIC_APPLICATION_SCALE_OUT',
  'WEBSITE_NODE_DEFAULT_VERSION',
  'WEBSITE_RUN_FROM_PACKAGE',
  'WEBSITE_SKIP_CONTENTSHARE_VALIDATION',
  'WEBSITE_VNET_ROUTE_ALL',
];

const specs = Object.entries(SETTINGS) as [string, SettingSpec][];
const appSettings = specs.filter(([, s]) => s.where === 'app').map(([n]) => n);
const emulatorSettings = specs.filter(([, s]) => s.where === 'emulator').map(([n]) => n);
const platformSettings = specs.filter(([, s]) => s.where === 'platform').map(([n]) => n);

const appBicep = readBicep(path.join(INFRA, 'modules', 'app.bicep'));
const generated = (
  JSON.parse(fs.readFileSync(path.join(INFRA, 'generated', 'app-settings.json'), 'utf8')) as {
    settings: Record<string, string>;
  }
).settings;
const deploymentKeys = objectKeys(appBicep, 'deploymentSettings');
const bicepKeys = [...new Set([...Object.keys(generated), ...deploymentKeys])];
/** A deployment setting's value text (one line). */
const deploymentValue = (name: string): string | undefined =>
  new RegExp(`^\\s*${name}:\\s*(.+)$`, 'm').exec(statement(appBicep, 'var', 'deploymentSettings').text)?.[1]?.trim();

const sample = JSON.parse(fs.readFileSync(path.join(REPO, 'local.settings.sample.json'), 'utf8')) as {
  Values?: Record<string, unknown>;
};
const sampleValues = sample.Values ?? {};
const sampleKeys = Object.keys(sampleValues);

/** %Name% references the host resolves from app settings: host.json and the trigger bindings. */
function percentReferences(): string[] {
  const found = new Set<string>();
  const scan = (text: string): void => {
    for (const m of text.matchAll(/['"`]%([A-Za-z_]\w*)%['"`]/g)) if (m[1]) found.add(m[1]);
  };
  scan(fs.readFileSync(path.join(REPO, 'host.json'), 'utf8'));
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.name.endsWith('.ts')) scan(fs.readFileSync(full, 'utf8'));
    }
  };
  walk(path.join(REPO, 'functions'));
  return [...found].sort();
}

const documentedDefault = (spec: SettingSpec): string | undefined => generatorDefault(spec.description);

const allowedIn =
  (where: 'azure' | 'local'): ((name: string) => boolean) =>
  (name) => {
    const p = PLATFORM_SETTINGS[name];
    return p !== undefined && (p.where === where || p.where === 'both');
  };

describe('function app settings in infra/modules/app.bicep', () => {
  it('are the generated settings united with the deployment ones, generated ones not repeated by hand', () => {
    expect(statement(appBicep, 'var', 'functionAppSettings').text).toBe(
      'var functionAppSettings = union(generatedSettings, deploymentSettings)',
    );
    expect(deploymentKeys.filter((k) => k in generated)).toEqual([]);
  });

  it.each(appSettings)('sets the app setting %s', (name) => {
    expect(bicepKeys).toContain(name);
  });

  it('sets nothing the code does not read, beyond the allowed host/platform settings', () => {
    const stale = bicepKeys.filter((k) => !appSettings.includes(k) && !allowedIn('azure')(k));
    expect(stale).toEqual([]);
  });

  it('sets no setting Flex Consumption rejects', () => {
    expect(bicepKeys.filter((k) => FLEX_UNSUPPORTED.includes(k))).toEqual([]);
  });

  it('sets every %Name% the host resolves (host.json, bindings)', () => {
    expect(percentReferences().filter((n) => !bicepKeys.includes(n))).toEqual([]);
  });

  it('connects by identity: every connection prefix the bindings use has credential and clientId', () => {
    for (const prefix of ['AzureWebJobsStorage', 'EventHubConnection', 'CosmosConnection']) {
      expect(deploymentValue(`${prefix}__credential`), prefix).toBe("'managedidentity'");
      expect(deploymentValue(`${prefix}__clientId`), prefix).toBe('identityClientId');
    }
    expect(deploymentValue('APPLICATIONINSIGHTS_AUTHENTICATION_STRING')).toBe(
      "'ClientId=${identityClientId};Authorization=AAD'",
    );
  });

  it('gives every tunable the default its description documents', () => {
    const mismatches = specs.flatMap(([name, spec]) => {
      const documented = documentedDefault(spec);
      const actual = generated[name];
      return documented !== undefined && actual !== undefined && actual !== documented
        ? [`${name}: ${actual} (documented ${documented})`]
        : [];
    });
    expect(mismatches).toEqual([]);
  });
});

describe('emulator settings', () => {
  it.each(bicepFiles().map((f) => path.relative(REPO, f)))('none appears in %s', (rel) => {
    const text = fs.readFileSync(path.join(REPO, rel), 'utf8');
    const present = emulatorSettings.filter((n) => new RegExp(`(?<![\\w])${n}(?![\\w])`).test(text));
    expect(present).toEqual([]);
  });

  it('none is offered in local.settings.sample.json (the local runtime sets its own)', () => {
    expect(sampleKeys.filter((k) => emulatorSettings.includes(k))).toEqual([]);
  });
});

describe('platform settings (App Service sets them on the running app)', () => {
  it('include the App Service Authentication switch the app reads', () => {
    expect(platformSettings).toEqual(expect.arrayContaining(['WEBSITE_AUTH_ENABLED', 'WEBSITE_SITE_NAME']));
  });

  it('are set neither by Bicep nor by local.settings.sample.json (setting one would forge the platform)', () => {
    expect(bicepKeys.filter((k) => platformSettings.includes(k))).toEqual([]);
    expect(sampleKeys.filter((k) => platformSettings.includes(k))).toEqual([]);
  });
});

describe('local.settings.sample.json', () => {
  it.each(appSettings)('offers the app setting %s', (name) => {
    expect(sampleKeys).toContain(name);
  });

  it('offers nothing the code does not read, beyond the allowed host settings', () => {
    const stale = sampleKeys.filter(
      (k) => !appSettings.includes(k) && !emulatorSettings.includes(k) && !allowedIn('local')(k),
    );
    expect(stale).toEqual([]);
  });

  it('offers every %Name% the host resolves', () => {
    expect(percentReferences().filter((n) => !sampleKeys.includes(n))).toEqual([]);
  });

  it('has only string values, and tunables at their documented defaults', () => {
    const notStrings = sampleKeys.filter((k) => typeof sampleValues[k] !== 'string');
    expect(notStrings).toEqual([]);
    const mismatches = specs.flatMap(([name, spec]) => {
      const documented = documentedDefault(spec);
      const actual = sampleValues[name];
      return documented !== undefined && typeof actual === 'string' && !actual.includes('<') && actual !== documented
        ? [`${name}: ${actual} (documented ${documented})`]
        : [];
    });
    expect(mismatches).toEqual([]);
  });
});
