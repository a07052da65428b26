/**
 * Who may do what: the roles, the permissions and the one table that joins them. docs/security.md
 * shows this table and tests/unit/identity-roles.test.ts checks the two agree, so the document
 * cannot drift from what the CLI, the workflows, the codec server and the prediction API enforce.
 * Workflow-safe: no I/O (workflows check permissions with it).
 */
import { ForbiddenError } from '../errors.js';

export const ROLES = ['data-scientist', 'ops', 'app-developer', 'compliance-officer'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = [
  'ingest',
  'build-features',
  'retrain',
  'promote',
  'rollback',
  'decrypt-history',
  'predict',
  'read-model-metadata',
  'read-audit',
  'purge',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/**
 * The permission table. Separation of duties: those who train (data scientists) do not move the
 * champion (ops); those who read the audit trail (compliance) do not change what it records;
 * applications predict and read model metadata, nothing else.
 */
export const PERMISSION_TABLE: Readonly<Record<Permission, readonly Role[]>> = {
  ingest: ['data-scientist', 'ops'],
  'build-features': ['data-scientist', 'ops'],
  retrain: ['data-scientist', 'ops'],
  promote: ['ops'],
  rollback: ['ops'],
  'decrypt-history': ['ops', 'compliance-officer'],
  predict: ['app-developer', 'data-scientist'],
  'read-model-metadata': ['data-scientist', 'ops', 'app-developer', 'compliance-officer'],
  'read-audit': ['ops', 'compliance-officer'],
  purge: ['ops', 'compliance-officer'],
};

/** The acting person or service: what travels (encrypted) in workflow inputs and is recorded in aliases and audit records. */
export interface Identity {
  /** The token's `sub` (or the dev user, `dev:<name>`): never a name or an e-mail unless the issuer puts one there. */
  subject: string;
  /** The token's issuer, or `dev` for the local dev identity. */
  issuer: string;
  roles: Role[];
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function can(identity: Identity, permission: Permission): boolean {
  const allowed = PERMISSION_TABLE[permission];
  return identity.roles.some((r) => allowed.includes(r));
}

/** The sentence a refusal carries: who, with which roles, lacks which permission, and which roles have it. */
export function refusalMessage(identity: Identity, permission: Permission): string {
  const held = identity.roles.length > 0 ? `role ${identity.roles.join(', ')}` : 'no carepipe role';
  return `${identity.subject} (${held}) may not ${permission}: that needs the role ${PERMISSION_TABLE[permission].join(' or ')}`;
}

/** Returns if the identity holds the permission; throws ForbiddenError naming role and permission otherwise. */
export function authorize(identity: Identity, permission: Permission): void {
  if (!can(identity, permission)) throw new ForbiddenError(refusalMessage(identity, permission));
}

/** A shape check for identities read from payloads (a workflow input is data, not a type). */
export function isIdentity(value: unknown): value is Identity {
  const v = value as Partial<Identity> | null | undefined;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.subject === 'string' &&
    v.subject.length > 0 &&
    typeof v.issuer === 'string' &&
    Array.isArray(v.roles) &&
    v.roles.every(isRole)
  );
}
