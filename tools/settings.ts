/**
 * Settings for command-line tools: the process environment, with local.settings.json's
 * `Values` (if the file exists in the working directory) filling what the environment lacks,
 * the way Core Tools does for the app.
 */
import fs from 'node:fs';
import path from 'node:path';

export function loadToolSettings(cwd = process.cwd()): Record<string, string | undefined> {
  const file = path.join(cwd, 'local.settings.json');
  const merged: Record<string, string | undefined> = {};
  if (fs.existsSync(file)) {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as { Values?: Record<string, unknown> };
    for (const [k, v] of Object.entries(parsed.Values ?? {})) if (typeof v === 'string') merged[k] = v;
  }
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) merged[k] = v;
  return merged;
}

/** Minimal `--flag value` / `--switch` parsing with a clear error for unknown flags. */
export function parseFlags(
  argv: readonly string[],
  known: Record<string, 'value' | 'switch'>,
): { positional: string[]; flags: Record<string, string | true> } {
  const positional: string[] = [];
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const [name, inline] = a.slice(2).split('=', 2) as [string, string | undefined];
    const kind = known[name];
    if (!kind)
      throw new Error(
        `unknown option --${name}; known: ${Object.keys(known)
          .map((k) => `--${k}`)
          .join(', ')}`,
      );
    if (kind === 'switch') flags[name] = true;
    else {
      const v = inline ?? argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`--${name} needs a value`);
      flags[name] = v;
    }
  }
  return { positional, flags };
}
