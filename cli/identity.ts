/**
 * Who is running the CLI: the identity its token proves (CAREPIPE_TOKEN or `--token`), checked
 * against the configured OIDC issuer; without an issuer, the local dev identity of whoever can
 * read the local key file (core/identity/dev-token.ts). It goes into every workflow input.
 */
import { type Config, requireCodecKeys } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import { devIdentity } from '../core/identity/dev-token.js';
import type { Identity } from '../core/identity/roles.js';
import { createIdentityVerifier } from '../core/identity/token.js';

export async function resolveCliIdentity(config: Config, token = config.identity.token): Promise<Identity> {
  const oidc = config.identity.oidc !== undefined;
  if (token !== undefined) return createIdentityVerifier(config.identity, oidc ? undefined : requireCodecKeys(config)).verify(token);
  if (oidc) {
    throw new ConfigError('CAREPIPE_OIDC_ISSUER is set, so a token is required: give your access token in CAREPIPE_TOKEN or --token.');
  }
  requireCodecKeys(config); // the dev identity is whoever can read the local key file: without it, nobody
  return devIdentity(config.identity.devRoles);
}
