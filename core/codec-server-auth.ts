/**
 * Who may use the codec server, and where it may listen. Callers prove who they are with the
 * access token the Web UI forwards (`Authorization: Bearer <jwt>`, checked by core/identity/) and
 * need the `decrypt-history` permission; a shared token (CAREPIPE_CODEC_SERVER_TOKEN) is still
 * accepted for the Temporal CLI's `--codec-auth`, recorded as such. Without either, only loopback.
 */
import { timingSafeEqual } from 'node:crypto';
import { ConfigError, UnauthenticatedError } from './errors.js';
import { type Identity, can, refusalMessage } from './identity/roles.js';
import type { IdentityVerifier } from './identity/token.js';

export class HttpRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface CodecAuth {
  /** Per-user tokens, checked against the configured issuer (or local dev tokens). */
  verifier?: IdentityVerifier;
  /** A shared bearer token (at least 16 characters). */
  token?: string;
}

/** Loopback: reachable from this machine (or pod) only. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Refuses a non-loopback address without authentication: any pod or host that can reach it could
 * POST /decode (CORS binds browsers only). Returns a warning for tokens over plain HTTP, if any.
 */
export function checkExposure(host: string, auth: CodecAuth, tls: boolean): string | undefined {
  if (isLoopback(host)) return undefined;
  if (!auth.verifier && auth.token === undefined) {
    throw new ConfigError(
      `the codec server will not listen on ${host} without authentication: set CAREPIPE_OIDC_ISSUER and CAREPIPE_OIDC_JWKS (per-user tokens) or CAREPIPE_CODEC_SERVER_TOKEN, or bind 127.0.0.1`,
    );
  }
  return tls ? undefined : `serving on ${host} over plain HTTP: bearer tokens cross the network in clear; set CAREPIPE_CODEC_SERVER_TLS_CERT and _KEY`;
}

function sharedTokenMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.startsWith('Bearer ') ? header.slice(7) : '');
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

/** The caller of a request, or an HttpRefusal (401 not authenticated, 403 lacking decrypt-history). */
export async function authenticate(auth: CodecAuth, header: string | undefined): Promise<Identity> {
  if (auth.token !== undefined && sharedTokenMatches(header, auth.token)) return { subject: 'shared-token', issuer: 'codec-server', roles: [] };
  if (auth.verifier) {
    let identity: Identity;
    try {
      identity = await auth.verifier.identityFromBearer(header);
    } catch (err) {
      if (err instanceof UnauthenticatedError) throw new HttpRefusal(401, err.message);
      throw err;
    }
    if (!can(identity, 'decrypt-history')) throw new HttpRefusal(403, refusalMessage(identity, 'decrypt-history'));
    return identity;
  }
  if (auth.token !== undefined) throw new HttpRefusal(401, 'a valid bearer token is required');
  return { subject: 'anonymous', issuer: 'loopback', roles: [] };
}
