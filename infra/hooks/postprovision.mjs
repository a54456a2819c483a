// Writes local.settings.json that points a developer machine at the deployed resources, from
// the outputs azd exports into the environment after `azd provision` / `azd up`.
//
// - Starts from local.settings.sample.json (which carries every `app` setting of
//   functions/config.ts, checked by test/infra), keeps any key an existing local.settings.json
//   adds, and overwrites only the keys that name deployed resources.
// - Identity-based: the developer's `az login` (DefaultAzureCredential) reaches Event Hubs, the
//   lake and Cosmos DB through the roles main.bicep gives AZURE_PRINCIPAL_ID. No key, SAS or
//   connection string is fetched or written.
// - Host storage stays local (Azurite): the task hub, Event Hubs checkpoints and timer leases of
//   a laptop must never mix with the deployed app's. For the same reason the triggers read the
//   `<group>-local` consumer groups when the deployment created them, and the task hub name
//   differs from the deployed one.
//
// Usage: node infra/hooks/postprovision.mjs [--out <path>] [--print]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Deployed-resource settings, from the azd outputs of infra/main.bicep. `sampleValues` gives the
 * declared consumer groups (every `*ConsumerGroup` setting), which get the local suffix.
 */
export function settingsFromOutputs(env, sampleValues = {}) {
  const need = (name) => {
    const v = env[name];
    if (v === undefined || v.trim() === '')
      throw new Error(
        `${name} is not set: run this after \`azd provision\` (azd exports the deployment outputs), or export it yourself.`,
      );
    return v.trim();
  };
  const suffix = (env.EVENTHUBS_LOCAL_CONSUMER_GROUP_SUFFIX ?? '').trim();
  const taskHub = `${need('DURABLE_TASK_HUB_NAME')}local`.slice(0, 45);
  return {
    EventHubConnection__fullyQualifiedNamespace: need('EVENTHUBS_FULLY_QUALIFIED_NAMESPACE'),
    ...Object.fromEntries(
      Object.entries(sampleValues)
        .filter(([key, value]) => key.endsWith('ConsumerGroup') && typeof value === 'string')
        .map(([key, value]) => [key, `${value}${suffix}`]),
    ),
    CosmosConnection__accountEndpoint: need('COSMOS_ENDPOINT'),
    CosmosDatabaseName: need('COSMOS_DATABASE_NAME'),
    DeadLetterStorage__blobServiceUri: need('DEADLETTER_BLOB_ENDPOINT'),
    ArchiveLake__dfsServiceUri: need('LAKE_DFS_ENDPOINT'),
    ArchiveLakeFileSystem: need('CAPTURE_FILE_SYSTEM'),
    DurableTaskHubName: taskHub,
  };
}

/** The sample's values, then an existing file's, then the deployed resources'. */
export function buildLocalSettings(sample, existing, fromOutputs) {
  return {
    IsEncrypted: false,
    ...(existing ?? {}),
    Values: { ...(sample.Values ?? {}), ...(existing?.Values ?? {}), ...fromOutputs },
  };
}

function readJson(file) {
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : undefined;
}

function main(argv) {
  const outIndex = argv.indexOf('--out');
  const out =
    outIndex >= 0 && argv[outIndex + 1] ? path.resolve(argv[outIndex + 1]) : path.join(root, 'local.settings.json');
  const sample = readJson(path.join(root, 'local.settings.sample.json')) ?? { Values: {} };
  const settings = buildLocalSettings(sample, readJson(out), settingsFromOutputs(process.env, sample.Values ?? {}));
  const text = `${JSON.stringify(settings, null, 2)}\n`;
  if (argv.includes('--print')) process.stdout.write(text);
  fs.writeFileSync(out, text);
  console.log(
    `postprovision: wrote ${path.relative(process.cwd(), out) || out} for ${process.env.AZURE_FUNCTION_APP_NAME ?? 'the deployed app'}.`,
  );
  console.log(
    'postprovision: host storage stays on Azurite (UseDevelopmentStorage=true); run `az login` so DefaultAzureCredential reaches Event Hubs, Cosmos DB and the lake.',
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    console.error(`postprovision: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
}
