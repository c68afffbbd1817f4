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
  /** Registering model versions in the registry. */
  'models:register',
  /** Applying a configuration revision to the running server. */
  'config:apply',
  /** Starting, stepping, pausing, promoting, aborting and rolling back rollouts; the kill switch. */
  'rollouts:manage',
  /** Approving (or refusing) a version's promotion at a service's gate. */
  'approvals:grant',
] as const;
export type Permission = (typeof permissions)[number];

export const roles = ['viewer', 'decider', 'labeler', 'reviewer', 'operator', 'approver', 'auditor', 'admin'] as const;
export type Role = (typeof roles)[number];

const read: readonly Permission[] = ['services:read', 'decisions:read', 'monitors:read', 'references:read', 'alerts:read', 'metrics:read'];

/**
 * The grants. `reviewer` reads like a viewer until the review queue (a later issue) gives it its own
 * permissions; `approver` approves promotions at a service's gate.
 */
export const rolePermissions: Readonly<Record<Role, readonly Permission[]>> = {
  viewer: read,
  decider: ['services:read', 'decisions:create'],
  labeler: ['services:read', 'decisions:read', 'feedback:create'],
  reviewer: [...read, 'feedback:create'],
  operator: [...read, 'monitors:evaluate', 'references:write', 'breakers:manage', 'models:register', 'config:apply', 'rollouts:manage'],
  approver: [...read, 'approvals:grant'],
  auditor: [...read, 'decisions:read-raw', 'audit:read'],
  admin: permissions,
};

/** Permissions that are never scoped to one service: a key granted on one service never holds them. */
export const globalPermissions: ReadonlySet<Permission> = new Set(['keys:manage', 'audit:read', 'metrics:read', 'retention:manage', 'config:apply']);

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
