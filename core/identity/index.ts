/**
 * Identity and roles, for every door into carepipe: the CLI (cli/identity.ts), the workflows
 * (workflows/validate.ts `checkActor`), the codec server, and the prediction API (serving/), which
 * calls `identityFromBearer(req.headers.authorization)` and then `authorize(identity, 'predict')`.
 * docs/security.md describes the model; roles.ts holds the one permission table.
 */
import { loadConfig, requireCodecKeys } from '../config.js';
import type { Identity } from './roles.js';
import { type IdentityVerifier, createIdentityVerifier } from './token.js';

export { ForbiddenError, UnauthenticatedError } from '../errors.js';
export { authorize, can, PERMISSIONS, PERMISSION_TABLE, ROLES } from './roles.js';
export type { Identity, Permission, Role } from './roles.js';
export { createIdentityVerifier, type IdentityVerifier } from './token.js';
export { devIdentity, mintDevToken } from './dev-token.js';

let verifier: IdentityVerifier | undefined;

/**
 * The identity an `Authorization: Bearer <token>` header proves, checked against the process's
 * configured issuer (CAREPIPE_OIDC_*), or, without one, as a local dev token. Throws
 * UnauthenticatedError (answer 401); then `authorize` throws ForbiddenError (answer 403).
 */
export async function identityFromBearer(header: string | undefined): Promise<Identity> {
  if (!verifier) {
    const config = loadConfig();
    verifier = createIdentityVerifier(config.identity, config.identity.oidc ? undefined : requireCodecKeys(config));
  }
  return verifier.identityFromBearer(header);
}
