/**
 * The settings an app runs with locally: the app's local defaults (its launcher's profile), then
 * local.settings.json, the environment, the caller's settings, and last the stand-ins' endpoints,
 * which nothing overrides. Settings that would point the app at Azure are removed.
 */
import fs from 'node:fs';
import type { LocalAppProfile } from './profile';

export function readLocalSettings(file: string | undefined): Record<string, string> {
  if (!file || !fs.existsSync(file)) return {};
  const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as { Values?: unknown };
  const values = parsed.Values;
  if (!values || typeof values !== 'object') return {};
  return Object.fromEntries(
    Object.entries(values as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
}

/**
 * The settings the app runs with, lowest precedence first: local defaults, local.settings.json,
 * the environment (only settings the app knows), the caller's settings; then what only the runtime
 * knows (stand-in endpoints), which nothing overrides. Azure identity settings are removed.
 */
export function localSettings(
  profile: LocalAppProfile['settings'],
  env: Readonly<Record<string, string | undefined>>,
  fileValues: Readonly<Record<string, string>>,
  overrides: Readonly<Record<string, string>>,
  standIns: Readonly<Record<string, string>>,
): { settings: Record<string, string>; removed: string[] } {
  const known = new Set(profile.known);
  const settings: Record<string, string> = { ...profile.defaults };
  const removed = new Set<string>(profile.azureOnly);
  for (const [k, v] of Object.entries(fileValues)) settings[k] = v;
  for (const [k, v] of Object.entries(env))
    if (v !== undefined && v !== '' && (known.has(k) || k in fileValues || k in profile.defaults)) settings[k] = v;
  for (const [k, v] of Object.entries(overrides)) settings[k] = v;
  for (const k of removed) delete settings[k];
  Object.assign(settings, standIns);
  return { settings, removed: [...removed] };
}
