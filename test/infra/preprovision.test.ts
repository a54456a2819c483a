/**
 * The azd preprovision hook: no deployment without sign-in. With AUTH_CLIENT_ID set it changes
 * nothing; without it, it creates the app registration with the generated app roles, sets its
 * identifier URI, creates its service principal and records the id; when that fails it stops
 * with a message that says what to do.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROLE_ADMIN, ROLE_READER } from '../../domain/shared/caller';
import { INFRA } from './bicep';

interface Hook {
  registrationPlan(env: Record<string, string>): string[][];
  ensureAppRegistration(
    env: Record<string, string>,
    run: (argv: string[]) => { status: number; stdout: string; stderr: string },
  ): string;
  APP_ROLES_FILE: string;
}

const load = async (): Promise<Hook> => (await import(path.join(INFRA, 'hooks', 'preprovision.mjs'))) as Hook;
const APP_ID = '0a1b2c3d-0000-4000-8000-000000000001';

describe('infra/hooks/preprovision.mjs', () => {
  it('changes nothing when AUTH_CLIENT_ID is set, and refuses one that is not an application id', async () => {
    const hook = await load();
    expect(hook.registrationPlan({ AUTH_CLIENT_ID: APP_ID })).toEqual([]);
    const calls: string[][] = [];
    expect(
      hook.ensureAppRegistration(
        { AUTH_CLIENT_ID: APP_ID },
        (a) => (calls.push(a), { status: 0, stdout: '', stderr: '' }),
      ),
    ).toBe(APP_ID);
    expect(calls).toEqual([]);
    expect(() => hook.registrationPlan({ AUTH_CLIENT_ID: 'my-app' })).toThrow(/not an application \(client\) id/);
  });

  it('creates the registration with the generated app roles, its api:// URI and service principal, and records the id', async () => {
    const hook = await load();
    const calls: string[][] = [];
    const id = hook.ensureAppRegistration({ AZURE_ENV_NAME: 'fabrikam-dev' }, (argv) => {
      calls.push(argv);
      return { status: 0, stdout: calls.length === 1 ? `${APP_ID}\n` : '', stderr: '' };
    });
    expect(id).toBe(APP_ID);
    expect(calls.map((c) => c.slice(0, 4).join(' '))).toEqual([
      'az ad app create',
      'az ad app update',
      'az ad sp create',
      'azd env set AUTH_CLIENT_ID',
    ]);
    expect(calls[3]?.[4]).toBe(APP_ID);
    expect(calls[0]).toEqual(
      expect.arrayContaining([
        '--display-name',
        'fabrikam-drone-delivery-api-fabrikam-dev',
        '--sign-in-audience',
        'AzureADMyOrg',
        '--app-roles',
        `@${hook.APP_ROLES_FILE}`,
      ]),
    );
    expect(calls[1]).toEqual(expect.arrayContaining(['--id', APP_ID, '--identifier-uris', `api://${APP_ID}`]));
    const roles = JSON.parse(fs.readFileSync(hook.APP_ROLES_FILE, 'utf8')) as {
      value: string;
      id: string;
      isEnabled: boolean;
    }[];
    expect(roles.map((r) => r.value)).toEqual([ROLE_ADMIN, ROLE_READER]);
    expect(new Set(roles.map((r) => r.id)).size).toBe(2);
  });

  it('stops with a message that says what to do when the registration cannot be created', async () => {
    const hook = await load();
    expect(() =>
      hook.ensureAppRegistration({}, () => ({
        status: 1,
        stdout: '',
        stderr: 'Insufficient privileges to complete the operation.',
      })),
    ).toThrow(/creating one failed[\s\S]*azd env set AUTH_CLIENT_ID[\s\S]*Insufficient privileges/);
    expect(() => hook.ensureAppRegistration({}, () => ({ status: 0, stdout: 'not-an-id', stderr: '' }))).toThrow(
      /instead of an application id/,
    );
  });
});
