/**
 * Identity from a bearer token: an OIDC/JWT access token checked with `jose` against the
 * configured issuer's keys (signature, `iss`, `aud` when configured, `exp`/`nbf`), its roles read
 * from the configured claim. Without an issuer (local development) the only tokens accepted are
 * dev tokens, HS256-signed with a key derived from the local key file (dev-token.ts).
 * The prediction API calls `identityFromBearer` and `authorize` (roles.ts) the same way.
 */
import { readFileSync } from 'node:fs';
import { type JWTPayload, type JWTVerifyGetKey, createLocalJWKSet, createRemoteJWKSet, jwtVerify } from 'jose';
import { ConfigError, UnauthenticatedError } from '../errors.js';
import type { KeyRing } from '../config.js';
import { type Identity, isRole, type Role } from './roles.js';
import type { IdentitySettings, OidcSettings } from './settings.js';
import { DEV_ISSUER, devTokenKey } from './dev-token.js';

/** Tokens older than their `exp` by up to this are still accepted: clocks of two machines differ. */
const CLOCK_TOLERANCE_S = 30;
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

function claimAt(payload: JWTPayload, path: string): unknown {
  let v: unknown = payload;
  for (const part of path.split('.')) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[part] : undefined;
  return v;
}

/** Roles from the claim: a list, or a space- or comma-separated string; names that are not carepipe roles are ignored. */
export function rolesFromClaim(value: unknown): Role[] {
  const list = Array.isArray(value) ? value : typeof value === 'string' ? value.split(/[\s,]+/) : [];
  return [...new Set(list.filter(isRole))];
}

function localJwks(path: string): JWTVerifyGetKey {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new ConfigError(`CAREPIPE_OIDC_JWKS names ${path}, which is not a readable JSON Web Key Set.`, { cause });
  }
  if (!Array.isArray((doc as { keys?: unknown }).keys)) throw new ConfigError(`CAREPIPE_OIDC_JWKS names ${path}, which has no "keys" array.`);
  return createLocalJWKSet(doc as Parameters<typeof createLocalJWKSet>[0]);
}

export interface IdentityVerifier {
  /** The identity a token proves; throws UnauthenticatedError for a bad, expired or foreign token. */
  verify(token: string): Promise<Identity>;
  /** The identity of an `Authorization: Bearer <token>` header; throws UnauthenticatedError when absent or bad. */
  identityFromBearer(header: string | undefined): Promise<Identity>;
  /** Whether tokens come from an OIDC issuer (true) or are local dev tokens. */
  readonly oidc: boolean;
}

/**
 * A verifier for the settings. `codecRing` (the local key file's codec keys) is needed only
 * without an issuer, to check dev tokens; with an issuer, dev tokens are refused.
 */
export function createIdentityVerifier(settings: IdentitySettings, codecRing?: KeyRing): IdentityVerifier {
  const oidc: OidcSettings | undefined = settings.oidc;
  let keys: JWTVerifyGetKey | Uint8Array;
  if (oidc) keys = oidc.jwks.kind === 'url' ? createRemoteJWKSet(new URL(oidc.jwks.url)) : localJwks(oidc.jwks.path);
  else if (codecRing) keys = devTokenKey(codecRing);
  else throw new ConfigError('No CAREPIPE_OIDC_ISSUER and no local key file: nothing to check tokens against.');
  const issuer = oidc?.issuer ?? DEV_ISSUER;
  const rolesClaim = oidc?.rolesClaim ?? 'roles';
  const verify = async (token: string): Promise<Identity> => {
    let payload: JWTPayload;
    try {
      const options = {
        issuer,
        clockTolerance: CLOCK_TOLERANCE_S,
        requiredClaims: ['sub', 'exp'],
        algorithms: oidc ? ALGORITHMS : ['HS256'],
        ...(oidc?.audience !== undefined ? { audience: oidc.audience } : {}),
      };
      // jose's overloads split on the key's type; the options are the same for both.
      payload = (keys instanceof Uint8Array ? await jwtVerify(token, keys, options) : await jwtVerify(token, keys, options)).payload;
    } catch (cause) {
      // jose's codes name the check that failed (ERR_JWT_EXPIRED, ERR_JWS_SIGNATURE_VERIFICATION_FAILED, ...), never the token.
      const code = (cause as { code?: string }).code ?? 'ERR_INVALID';
      throw new UnauthenticatedError(`the token is not valid for issuer ${issuer} (${code})`, { cause });
    }
    return { subject: payload.sub!, issuer, roles: rolesFromClaim(claimAt(payload, rolesClaim)) };
  };
  return {
    oidc: oidc !== undefined,
    verify,
    async identityFromBearer(header) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
      if (!match) throw new UnauthenticatedError('an Authorization: Bearer <token> header is required');
      return verify(match[1]!);
    },
  };
}
