/**
 * Local development identity: without an OIDC issuer, a person on this machine is whoever holds
 * the local key file (`carepipe stack up` creates it, owner-only). The dev identity is
 * `dev:<user>` with CAREPIPE_DEV_ROLES (all roles by default); dev tokens (for the codec server
 * and the prediction API run locally) are HS256 JWTs whose key is derived from the key file's
 * active codec key, so only holders of that file can mint them, and a deployment with an issuer
 * accepts none of them.
 */
import { createHmac } from 'node:crypto';
import { userInfo } from 'node:os';
import { SignJWT } from 'jose';
import type { KeyRing } from '../config.js';
import type { Identity, Role } from './roles.js';

export const DEV_ISSUER = 'carepipe-dev';

/** The HS256 key of dev tokens: an HMAC of a fixed label under the active codec key (not the codec key itself). */
export function devTokenKey(ring: KeyRing): Uint8Array {
  const key = ring.keys.get(ring.activeId)!;
  return new Uint8Array(createHmac('sha256', key).update('carepipe dev identity token v1').digest());
}

export function devIdentity(roles: Role[], user = userInfo().username): Identity {
  return { subject: `dev:${user}`, issuer: DEV_ISSUER, roles: [...roles] };
}

/** A dev token for `identity`, valid for `ttlSeconds`. */
export async function mintDevToken(ring: KeyRing, subject: string, roles: Role[], ttlSeconds = 3600): Promise<string> {
  return new SignJWT({ roles })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(subject)
    .setIssuer(DEV_ISSUER)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(devTokenKey(ring));
}
