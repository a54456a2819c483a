/**
 * The azd postprovision hook turns deployment outputs into a local.settings.json that points at
 * the deployed resources by identity: every `app` setting present, no emulator setting, no key,
 * host storage left on Azurite, and consumer groups and task hub kept apart from the app's.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SETTINGS } from '../../functions/config';
import type { SettingSpec } from '../../functions/config';
import { INFRA } from './bicep';

const script = path.join(INFRA, 'hooks', 'postprovision.mjs');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postprovision-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const outputs = {
  AZURE_FUNCTION_APP_NAME: 'func-abc',
  EVENTHUBS_FULLY_QUALIFIED_NAMESPACE: 'evhns-abc.servicebus.windows.net',
  EVENTHUBS_LOCAL_CONSUMER_GROUP_SUFFIX: '-local',
  COSMOS_ENDPOINT: 'https://cosmos-abc.documents.azure.com:443/',
  COSMOS_DATABASE_NAME: 'drone-delivery',
  DEADLETTER_BLOB_ENDPOINT: 'https://stabc.blob.core.windows.net',
  LAKE_DFS_ENDPOINT: 'https://dlsabc.dfs.core.windows.net',
  CAPTURE_FILE_SYSTEM: 'capture',
  DURABLE_TASK_HUB_NAME: 'fabrikamdev',
};

function run(env: Record<string, string>, out: string): ReturnType<typeof spawnSync> {
  const base: Record<string, string> = { PATH: process.env.PATH ?? '' };
  return spawnSync(process.execPath, [script, '--out', out], { env: { ...base, ...env }, encoding: 'utf8' });
}

describe('infra/hooks/postprovision.mjs', () => {
  it('writes every app setting, pointed at the deployed resources by identity', () => {
    const out = path.join(dir, 'a.json');
    const r = run(outputs, out);
    expect(r.status, String(r.stderr)).toBe(0);
    const written = JSON.parse(fs.readFileSync(out, 'utf8')) as { Values: Record<string, string> };
    const v = written.Values;
    const specs = Object.entries(SETTINGS) as [string, SettingSpec][];
    expect(specs.filter(([n, s]) => s.where === 'app' && v[n] === undefined).map(([n]) => n)).toEqual([]);
    expect(specs.filter(([n, s]) => s.where === 'emulator' && v[n] !== undefined).map(([n]) => n)).toEqual([]);
    expect(v.EventHubConnection__fullyQualifiedNamespace).toBe(outputs.EVENTHUBS_FULLY_QUALIFIED_NAMESPACE);
    expect(v.CosmosConnection__accountEndpoint).toBe(outputs.COSMOS_ENDPOINT);
    expect(v.DeadLetterStorage__blobServiceUri).toBe(outputs.DEADLETTER_BLOB_ENDPOINT);
    expect(v.ArchiveLake__dfsServiceUri).toBe(outputs.LAKE_DFS_ENDPOINT);
    expect(v.TelemetryConsumerGroup).toBe('ingestion-local');
    expect(v.ProjectorConsumerGroup).toBe('projector-local');
    expect(v.AzureWebJobsStorage).toBe('UseDevelopmentStorage=true');
    expect(v.DurableTaskHubName).not.toBe(outputs.DURABLE_TASK_HUB_NAME);
    expect(JSON.stringify(written)).not.toMatch(/AccountKey=|SharedAccessKey|sig=/i);
  });

  it('keeps what an existing local.settings.json adds, and does not suffix twice', () => {
    const out = path.join(dir, 'b.json');
    fs.writeFileSync(
      out,
      JSON.stringify({ IsEncrypted: false, Host: { LocalHttpPort: 7072 }, Values: { MyOwnSetting: 'x' } }),
    );
    expect(run(outputs, out).status).toBe(0);
    expect(run(outputs, out).status).toBe(0);
    const written = JSON.parse(fs.readFileSync(out, 'utf8')) as { Host?: unknown; Values: Record<string, string> };
    expect(written.Host).toEqual({ LocalHttpPort: 7072 });
    expect(written.Values.MyOwnSetting).toBe('x');
    expect(written.Values.TelemetryConsumerGroup).toBe('ingestion-local');
  });

  it('fails naming the missing output when run outside azd', () => {
    const r = run({}, path.join(dir, 'c.json'));
    expect(r.status).toBe(1);
    expect(String(r.stderr)).toMatch(/is not set/);
    expect(fs.existsSync(path.join(dir, 'c.json'))).toBe(false);
  });
});
