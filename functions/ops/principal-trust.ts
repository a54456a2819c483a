/**
 * The start-up check of the principal trust: when nothing vouches for the principal headers,
 * the app still starts (health stays useful) but says once, as an error, why every other route
 * will answer 401.
 */
import { parsePrincipalTrust } from '../config';
import type { PrincipalTrust } from '../config';

export function reportPrincipalTrust(trust: PrincipalTrust, log: (line: string) => void): void {
  if (trust.kind !== 'untrusted') return;
  log(JSON.stringify({ event: 'identity.untrusted', level: 'error', reason: trust.reason }));
}

reportPrincipalTrust(parsePrincipalTrust(process.env), (line) => console.error(line));
