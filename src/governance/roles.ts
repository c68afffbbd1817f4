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
  /** Acknowledging an alert ("I am on it"), which stops its escalation. */
  'alerts:ack',
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
  /** The status and final outcome of a review item (no input): what the caller polls. */
  'reviews:status',
  /** Review items with their inputs and explanations, the queue's listings and statistics. */
  'reviews:read',
  /** Taking items from the queue under a lease and deciding them (accept, override, escalate). */
  'reviews:decide',
  /** Filing an appeal of a decision, by or for its data subject. */
  'appeals:create',
] as const;
export type Permission = (typeof permissions)[number];

export const roles = ['viewer', 'decider', 'labeler', 'reviewer', 'senior-reviewer', 'operator', 'approver', 'auditor', 'admin'] as const;
export type Role = (typeof roles)[number];

const read: readonly Permission[] = ['services:read', 'decisions:read', 'monitors:read', 'references:read', 'alerts:read', 'metrics:read'];

/**
 * The grants. `reviewer` works the review queue; `senior-reviewer` too, and alone takes what was
 * escalated (the default escalation role of a service's `review:` block). `decider` is the calling
 * application: it hears back about its reviews and files appeals for its subjects. `approver`
 * approves promotions at a service's gate.
 */
export const rolePermissions: Readonly<Record<Role, readonly Permission[]>> = {
  viewer: [...read, 'reviews:status'],
  decider: ['services:read', 'decisions:create', 'reviews:status', 'appeals:create'],
  labeler: ['services:read', 'decisions:read', 'feedback:create'],
  reviewer: [...read, 'feedback:create', 'reviews:status', 'reviews:read', 'reviews:decide'],
  'senior-reviewer': [...read, 'feedback:create', 'reviews:status', 'reviews:read', 'reviews:decide'],
  operator: [...read, 'alerts:ack', 'monitors:evaluate', 'references:write', 'breakers:manage', 'models:register', 'config:apply', 'rollouts:manage', 'reviews:status', 'reviews:read'],
  approver: [...read, 'approvals:grant', 'reviews:status'],
  auditor: [...read, 'decisions:read-raw', 'audit:read', 'reviews:status', 'reviews:read'],
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
