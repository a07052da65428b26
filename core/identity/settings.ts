/**
 * Identity settings from the environment: the OIDC issuer whose tokens are trusted (its JWKS by
 * URL or as a local file), the claim that carries the roles, the caller's own token (the CLI),
 * and the roles of the local dev identity. Parsed once at start, with the variable named when refused.
 */
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import type { RawEnv } from '../config.js';
import { ROLES, type Role, isRole } from './roles.js';

export interface OidcSettings {
  issuer: string;
  /** When set, a token's `aud` must include it. */
  audience?: string;
  /** Where the issuer's public keys are: fetched (and cached by jose) from a URL, or read from a file. */
  jwks: { kind: 'url'; url: string } | { kind: 'file'; path: string };
  /** Dot path of the claim holding the roles (`roles`, `realm_access.roles`, `groups`). */
  rolesClaim: string;
}

export interface IdentitySettings {
  /** Absent: no issuer is trusted, and only the dev identity (and dev tokens) exist, locally. */
  oidc?: OidcSettings;
  /** The caller's own token (CAREPIPE_TOKEN), which the CLI sends as its identity. */
  token?: string;
  /** The roles of the local dev identity (CAREPIPE_DEV_ROLES, default all): only when no issuer is configured. */
  devRoles: Role[];
}

export function parseRoles(list: string, name: string): Role[] {
  const roles = list
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  for (const r of roles) if (!isRole(r)) throw new ConfigError(`${name} must list roles among ${ROLES.join(', ')}, got "${r}".`);
  return roles as Role[];
}

export function identitySettings(raw: RawEnv): IdentitySettings {
  const issuer = raw.CAREPIPE_OIDC_ISSUER;
  const jwks = raw.CAREPIPE_OIDC_JWKS;
  const devRoles = raw.CAREPIPE_DEV_ROLES !== undefined ? parseRoles(raw.CAREPIPE_DEV_ROLES, 'CAREPIPE_DEV_ROLES') : [...ROLES];
  const token = raw.CAREPIPE_TOKEN;
  if (issuer === undefined) {
    for (const name of ['CAREPIPE_OIDC_JWKS', 'CAREPIPE_OIDC_AUDIENCE', 'CAREPIPE_OIDC_ROLES_CLAIM'] as const) {
      if (raw[name] !== undefined) throw new ConfigError(`${name} is set but CAREPIPE_OIDC_ISSUER is not: name the issuer whose tokens are trusted.`);
    }
    return { devRoles, ...(token !== undefined ? { token } : {}) };
  }
  if (!/^https?:\/\/\S+$/.test(issuer)) throw new ConfigError(`CAREPIPE_OIDC_ISSUER must be the issuer's URL (its tokens' "iss"), got "${issuer}".`);
  if (jwks === undefined) throw new ConfigError('CAREPIPE_OIDC_ISSUER is set but CAREPIPE_OIDC_JWKS is not: give the JWKS URL or a JWKS file path.');
  if (/^http:\/\//.test(jwks) && !/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(jwks)) {
    throw new ConfigError(`CAREPIPE_OIDC_JWKS must be https:// off this machine (keys fetched in clear can be swapped), got "${jwks}".`);
  }
  const rolesClaim = raw.CAREPIPE_OIDC_ROLES_CLAIM ?? 'roles';
  if (!/^[A-Za-z0-9_:/.-]+$/.test(rolesClaim)) throw new ConfigError(`CAREPIPE_OIDC_ROLES_CLAIM must be a claim name or dot path, got "${rolesClaim}".`);
  const oidc: OidcSettings = {
    issuer,
    ...(raw.CAREPIPE_OIDC_AUDIENCE !== undefined ? { audience: raw.CAREPIPE_OIDC_AUDIENCE } : {}),
    jwks: /^https?:\/\//.test(jwks) ? { kind: 'url', url: jwks } : { kind: 'file', path: resolve(jwks) },
    rolesClaim,
  };
  return { oidc, devRoles, ...(token !== undefined ? { token } : {}) };
}

/** The lakes workers may touch (CAREPIPE_LAKE_ALLOW, comma-separated URIs); default: the configured lake alone. */
export function lakeAllowList(raw: RawEnv, configured: string, parse: (uri: string, name: string) => { uri: string }): string[] {
  if (raw.CAREPIPE_LAKE_ALLOW === undefined) return [configured];
  const list = raw.CAREPIPE_LAKE_ALLOW.split(',')
    .map((u) => u.trim())
    .filter(Boolean);
  if (list.length === 0) throw new ConfigError('CAREPIPE_LAKE_ALLOW must list at least one lake URI.');
  return list.map((u) => parse(u, 'CAREPIPE_LAKE_ALLOW').uri);
}
