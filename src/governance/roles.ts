// Roles and what each may do: the one table of grants. Which permission a route needs is declared
// next to the routes (server/route-permissions.ts); this says which roles hold it.

/** Everything a key can be allowed to do. */
export const permissions = [
  'services:read',
  'decisions:create',
  'decisions:read',
  /** Raw inputs and context of recorded decisions (others see them left out). */
  'decisions:read-raw',
  'feedback:create',
  'monitors:read',
  'monitors:evaluate',
  'references:read',
  'references:write',
  'alerts:read',
  'metrics:read',
  'audit:read',
  'keys:manage',
  /** Purges, legal holds, erasure of a data subject. */
  'retention:manage',
  /** Opening and closing a model version's circuit breaker by hand. */
  'breakers:manage',
] as const;
export type Permission = (typeof permissions)[number];

export const roles = ['viewer', 'decider', 'labeler', 'reviewer', 'operator', 'approver', 'auditor', 'admin'] as const;
export type Role = (typeof roles)[number];

const read: readonly Permission[] = ['services:read', 'decisions:read', 'monitors:read', 'references:read', 'alerts:read', 'metrics:read'];

/**
 * The grants. `reviewer` and `approver` read like viewers until the review queue and approvals
 * (later issues) give them their own permissions.
 */
export const rolePermissions: Readonly<Record<Role, readonly Permission[]>> = {
  viewer: read,
  decider: ['services:read', 'decisions:create'],
  labeler: ['services:read', 'decisions:read', 'feedback:create'],
  reviewer: [...read, 'feedback:create'],
  operator: [...read, 'monitors:evaluate', 'references:write', 'breakers:manage'],
  approver: read,
  auditor: [...read, 'decisions:read-raw', 'audit:read'],
  admin: permissions,
};

/** Permissions that are never scoped to one service: a key granted on one service never holds them. */
export const globalPermissions: ReadonlySet<Permission> = new Set(['keys:manage', 'audit:read', 'metrics:read', 'retention:manage']);

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (roles as readonly string[]).includes(value);
}

/** Whether `role`, granted on `grantedService` (null: every service), allows `permission` on `service` (undefined: no particular one). */
export function roleAllows(grant: { readonly role: string; readonly service: string | null }, permission: Permission, service?: string): boolean {
  if (!isRole(grant.role) || !rolePermissions[grant.role].includes(permission)) return false;
  if (grant.service === null) return true;
  if (globalPermissions.has(permission)) return false;
  return service === undefined || service === grant.service;
}
