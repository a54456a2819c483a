/**
 * App-setting references in binding properties (`%Name%`), resolved the way the Functions host
 * does before a trigger starts: from the app's settings (the environment locally). A reference to
 * a missing setting fails at startup with the names of the function, the property and the setting.
 */

export type Settings = Readonly<Record<string, string | undefined>>;

const REFERENCE = /%([^%]+)%/g;

export function resolveSettingRefs(value: string, settings: Settings, where = 'a binding property'): string {
  return value.replace(REFERENCE, (_match, name: string) => {
    const resolved = settings[name];
    if (resolved === undefined || resolved === '') {
      throw new Error(`App setting "${name}" referenced by ${where} as %${name}% is not set.`);
    }
    return resolved;
  });
}

/** Resolves an optional string binding property; non-strings are treated as absent. */
export function resolveOptionalSetting(value: unknown, settings: Settings, where: string): string | undefined {
  return typeof value === 'string' && value !== '' ? resolveSettingRefs(value, settings, where) : undefined;
}
