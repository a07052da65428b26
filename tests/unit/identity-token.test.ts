/**
 * Identity from tokens: an issuer's JWT checked with jose against a JWKS file (signature, issuer,
 * audience, expiry, subject), roles from the configured claim; dev tokens only without an issuer;
 * the CLI's resolution (token, else the dev identity, never the dev identity when an issuer is set);
 * and the settings' refusals.
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import { SignJWT } from 'jose';
import { resolveCliIdentity } from '../../cli/identity.js';
import { type KeyRing, parseConfig } from '../../core/config.js';
import { ConfigError, UnauthenticatedError } from '../../core/errors.js';
import { DEV_ISSUER, mintDevToken } from '../../core/identity/dev-token.js';
import { identitySettings } from '../../core/identity/settings.js';
import { createIdentityVerifier, rolesFromClaim } from '../../core/identity/token.js';
import { createTestIssuer, TEST_ISSUER, type TestIssuer } from '../helpers/oidc.js';

const ring: KeyRing = { activeId: 'k', keys: new Map([['k', createHash('sha256').update('identity test').digest()]]), source: 'test' };
const codecEnv = { CAREPIPE_CODEC_KEYS: `k:${ring.keys.get('k')!.toString('base64')}`, CAREPIPE_PSEUDONYM_KEYS: `k:${ring.keys.get('k')!.toString('base64')}` };
let issuer: TestIssuer;

test.before(async () => {
  issuer = await createTestIssuer();
});

test("an issuer's token gives its subject, the issuer and the carepipe roles of its claim", async (t) => {
  const verifier = createIdentityVerifier(identitySettings(issuer.env));
  t.true(verifier.oidc);
  const token = await issuer.token('u-123', ['ops', 'offline_access', 'data-scientist']);
  t.deepEqual(await verifier.verify(token), { subject: 'u-123', issuer: TEST_ISSUER, roles: ['ops', 'data-scientist'] });
  t.deepEqual(await verifier.identityFromBearer(`Bearer ${token}`), { subject: 'u-123', issuer: TEST_ISSUER, roles: ['ops', 'data-scientist'] });
});

test('roles are read from a nested claim (Keycloak realm_access.roles) and from space-separated strings', async (t) => {
  const verifier = createIdentityVerifier(identitySettings({ ...issuer.env, CAREPIPE_OIDC_ROLES_CLAIM: 'realm_access.roles' }));
  const token = await issuer.token('u-1', { roles: ['compliance-officer'] }, { claim: 'realm_access' });
  t.deepEqual((await verifier.verify(token)).roles, ['compliance-officer']);
  t.deepEqual(rolesFromClaim('ops app-developer admin'), ['ops', 'app-developer']);
  t.deepEqual(rolesFromClaim(42), []);
});

test('a token from another issuer, for another audience, expired, tampered with or absent is refused as unauthenticated', async (t) => {
  const verifier = createIdentityVerifier(identitySettings(issuer.env));
  const cases: [string, Promise<string> | string, RegExp][] = [
    ['other issuer', issuer.token('u', ['ops'], { issuer: 'https://evil.invalid' }), /ERR_JWT_CLAIM_VALIDATION_FAILED/],
    ['other audience', issuer.token('u', ['ops'], { audience: 'someone-else' }), /ERR_JWT_CLAIM_VALIDATION_FAILED/],
    ['expired', issuer.token('u', ['ops'], { expiresIn: '-5m' }), /ERR_JWT_EXPIRED/],
    ['not a JWT', 'not-a-token', /ERR_JWS_INVALID/],
  ];
  for (const [what, token, code] of cases) {
    const err = await t.throwsAsync(verifier.verify(await token), { instanceOf: UnauthenticatedError }, what);
    t.regex(err.message, code, what);
    t.regex(err.message, new RegExp(`^the token is not valid for issuer ${TEST_ISSUER.replace(/\./g, '\\.')}`), what);
  }
  const good = await issuer.token('u', ['ops']);
  const [h, p, s] = good.split('.');
  const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), roles: ['ops', 'compliance-officer'] })).toString(
    'base64url',
  );
  const tampered = await t.throwsAsync(verifier.verify(`${h}.${forged}.${s}`), { instanceOf: UnauthenticatedError });
  t.regex(tampered.message, /ERR_JWS_SIGNATURE_VERIFICATION_FAILED/);
  await t.throwsAsync(verifier.identityFromBearer(undefined), {
    instanceOf: UnauthenticatedError,
    message: /Authorization: Bearer <token> header is required/,
  });
  await t.throwsAsync(verifier.identityFromBearer(`Basic ${good}`), { instanceOf: UnauthenticatedError });
});

test('a dev token signed with the key file is accepted without an issuer, and refused where an issuer is configured', async (t) => {
  const dev = createIdentityVerifier(identitySettings({}), ring);
  t.false(dev.oidc);
  const token = await mintDevToken(ring, 'dev:alice', ['app-developer']);
  t.deepEqual(await dev.verify(token), { subject: 'dev:alice', issuer: DEV_ISSUER, roles: ['app-developer'] });
  const other: KeyRing = { activeId: 'k', keys: new Map([['k', Buffer.alloc(32, 7)]]), source: 'other' };
  await t.throwsAsync(dev.verify(await mintDevToken(other, 'dev:mallory', ['ops'])), { instanceOf: UnauthenticatedError, message: /SIGNATURE/ });
  const withIssuer = createIdentityVerifier(identitySettings(issuer.env), ring);
  await t.throwsAsync(withIssuer.verify(token), { instanceOf: UnauthenticatedError });
  // An HS256 token signed with the JWKS's public key (the alg-confusion attack) is refused too.
  const confused = await new SignJWT({ roles: ['ops'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('x')
    .setIssuer(TEST_ISSUER)
    .setExpirationTime('5m')
    .sign(new Uint8Array(32));
  await t.throwsAsync(withIssuer.verify(confused), { instanceOf: UnauthenticatedError });
});

test('the CLI acts with its token when given one, as the dev identity without an issuer, and refuses to guess when an issuer is set', async (t) => {
  const token = await issuer.token('u-cli', ['data-scientist']);
  t.deepEqual(await resolveCliIdentity(parseConfig({ ...codecEnv, ...issuer.env, CAREPIPE_TOKEN: token })), {
    subject: 'u-cli',
    issuer: TEST_ISSUER,
    roles: ['data-scientist'],
  });
  await t.throwsAsync(resolveCliIdentity(parseConfig({ ...codecEnv, ...issuer.env })), { instanceOf: ConfigError, message: /a token is required/ });
  const dev = await resolveCliIdentity(parseConfig({ ...codecEnv, CAREPIPE_DEV_ROLES: 'data-scientist' }));
  t.is(dev.issuer, DEV_ISSUER);
  t.regex(dev.subject, /^dev:/);
  t.deepEqual(dev.roles, ['data-scientist']);
  t.deepEqual((await resolveCliIdentity(parseConfig(codecEnv))).roles, ['data-scientist', 'ops', 'app-developer', 'compliance-officer']);
  await t.throwsAsync(resolveCliIdentity(parseConfig({ CAREPIPE_KEY_FILE: '/nonexistent/keys.json' })), { instanceOf: ConfigError, message: /does not exist/ });
});

test('identity settings refuse what cannot be meant, naming the variable', (t) => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ CAREPIPE_OIDC_JWKS: 'https://x/jwks' }, /^CAREPIPE_OIDC_JWKS is set but CAREPIPE_OIDC_ISSUER is not/],
    [{ CAREPIPE_OIDC_ISSUER: 'https://sso' }, /^CAREPIPE_OIDC_ISSUER is set but CAREPIPE_OIDC_JWKS is not/],
    [{ CAREPIPE_OIDC_ISSUER: 'sso', CAREPIPE_OIDC_JWKS: '/x' }, /^CAREPIPE_OIDC_ISSUER must be the issuer's URL/],
    [{ CAREPIPE_OIDC_ISSUER: 'https://sso', CAREPIPE_OIDC_JWKS: 'http://sso.example.com/jwks' }, /^CAREPIPE_OIDC_JWKS must be https:\/\/ off this machine/],
    [{ CAREPIPE_DEV_ROLES: 'ops,admin' }, /^CAREPIPE_DEV_ROLES must list roles among .*, got "admin"/],
    [{ CAREPIPE_LAKE_ALLOW: ' , ' }, /^CAREPIPE_LAKE_ALLOW must list at least one lake URI/],
    [{ CAREPIPE_LAKE_ALLOW: 'hdfs://x' }, /^CAREPIPE_LAKE_ALLOW must start with s3:\/\/ or file:\/\//],
  ];
  for (const [env, message] of cases) t.throws(() => parseConfig(env), { instanceOf: ConfigError, message }, JSON.stringify(env));
  t.deepEqual(parseConfig({ CAREPIPE_LAKE: 's3://a-lake/p/' }).lakeAllow, ['s3://a-lake/p']);
});
