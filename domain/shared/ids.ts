/** Identifier rules shared by drones and deliveries (docs/contract.md: 1-64 of [A-Za-z0-9_-]). */
export const ID_PATTERN = '^[A-Za-z0-9_-]{1,64}$';
const idRegex = new RegExp(ID_PATTERN);

export function isValidId(value: unknown): value is string {
  return typeof value === 'string' && idRegex.test(value);
}
