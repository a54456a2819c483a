// azd preprovision hook: no deployment without sign-in. Makes sure the azd environment names the
// Entra ID app registration that protects the API (AUTH_CLIENT_ID), creating it when absent:
//
//   az ad app create   --display-name <name> --sign-in-audience AzureADMyOrg
//                      --app-roles @infra/generated/app-roles.json   (Deliveries.Admin, Deliveries.Reader)
//   az ad app update   --id <appId> --identifier-uris api://<appId>
//   az ad sp create    --id <appId>                                   (so roles can be assigned)
//   azd env set AUTH_CLIENT_ID <appId>
//
// With AUTH_CLIENT_ID already set it checks the shape and changes nothing. When the app cannot be
// created (no `az`, no rights in the tenant) it stops with a message saying what to do: the
// template itself also refuses to deploy without a client id (authClientId is required).
//
// Usage: node infra/hooks/preprovision.mjs [--dry-run]
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const APP_ROLES_FILE = path.join(root, 'infra', 'generated', 'app-roles.json');
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The commands the hook runs, in order, for an environment; `{appId}` is filled in after the first. */
export function registrationPlan(env) {
  const existing = (env.AUTH_CLIENT_ID ?? '').trim();
  if (existing !== '') {
    if (!GUID.test(existing))
      throw new Error(
        `AUTH_CLIENT_ID is "${existing}", not an application (client) id. Fix it with \`azd env set AUTH_CLIENT_ID <application-id>\`.`,
      );
    return [];
  }
  const name = `fabrikam-drone-delivery-api-${(env.AZURE_ENV_NAME ?? 'env').trim() || 'env'}`;
  return [
    [
      'az',
      'ad',
      'app',
      'create',
      '--display-name',
      name,
      '--sign-in-audience',
      'AzureADMyOrg',
      '--app-roles',
      `@${APP_ROLES_FILE}`,
      '--query',
      'appId',
      '-o',
      'tsv',
    ],
    ['az', 'ad', 'app', 'update', '--id', '{appId}', '--identifier-uris', 'api://{appId}'],
    ['az', 'ad', 'sp', 'create', '--id', '{appId}'],
    ['azd', 'env', 'set', 'AUTH_CLIENT_ID', '{appId}'],
  ];
}

const STOP =
  'No Entra ID app registration for the API, and creating one failed. Create it yourself (infra/README.md, "Entra ID app registration") ' +
  'and run `azd env set AUTH_CLIENT_ID <application-id>`; a deployment without sign-in is refused.';

/** Runs the plan with `run(argv) → { status, stdout, stderr }`; returns the client id, or throws with a message that says what to do. */
export function ensureAppRegistration(env, run) {
  const plan = registrationPlan(env);
  if (plan.length === 0) return env.AUTH_CLIENT_ID.trim();
  let appId = '';
  for (const step of plan) {
    const argv = step.map((a) => a.replaceAll('{appId}', appId));
    const r = run(argv);
    if (r.status !== 0)
      throw new Error(
        `${STOP}\n  \`${argv.slice(0, 4).join(' ')} …\` said: ${String(r.stderr || r.error || 'nothing').trim()}`,
      );
    if (appId === '') {
      appId = String(r.stdout).trim();
      if (!GUID.test(appId))
        throw new Error(`${STOP}\n  \`az ad app create\` returned "${appId}" instead of an application id.`);
    }
  }
  return appId;
}

function main(argv) {
  if (argv.includes('--dry-run')) {
    for (const step of registrationPlan(process.env)) console.log(step.join(' '));
    return;
  }
  const run = ([cmd, ...args]) => spawnSync(cmd, args, { encoding: 'utf8', shell: process.platform === 'win32' });
  const appId = ensureAppRegistration(process.env, run);
  console.log(
    `preprovision: the API is protected by Entra ID app ${appId} (roles Deliveries.Admin, Deliveries.Reader).`,
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    console.error(`preprovision: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
}
