/**
 * Who is asking, and what they may see or change (docs/contract.md §1 "Caller identity").
 * Owners see their own deliveries; Deliveries.Admin sees and changes all; Deliveries.Reader reads all.
 */
export const ROLE_ADMIN = 'Deliveries.Admin';
export const ROLE_READER = 'Deliveries.Reader';

export interface Caller {
  readonly id: string;
  readonly roles: readonly string[];
}

export const isAdmin = (caller: Caller): boolean => caller.roles.includes(ROLE_ADMIN);
const isReader = (caller: Caller): boolean => caller.roles.includes(ROLE_READER);

export function canRead(caller: Caller, ownerId: string): boolean {
  return caller.id === ownerId || isAdmin(caller) || isReader(caller);
}

export function canChange(caller: Caller, ownerId: string): boolean {
  return caller.id === ownerId || isAdmin(caller);
}

/** Fleet data (drones) is operations data: admins and readers only. */
export function canReadFleet(caller: Caller): boolean {
  return isAdmin(caller) || isReader(caller);
}
