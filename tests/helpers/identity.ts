/** The actor tests run pipelines as: both roles that ingest, build, retrain, promote and roll back (identity tests make their own). */
import type { Identity } from '../../core/identity/roles.js';

export const TEST_ACTOR: Identity = { subject: 'test:pipeline', issuer: 'carepipe-test', roles: ['data-scientist', 'ops'] };
