/**
 * A stand-in OIDC issuer for tests: an ES256 key pair, its public half as a JWKS file (what
 * CAREPIPE_OIDC_JWKS may name), and tokens signed with it, as an identity provider would issue them.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CryptoKey, SignJWT, exportJWK, generateKeyPair } from 'jose';

export const TEST_ISSUER = 'https://sso.test.invalid/realms/carepipe';
export const TEST_AUDIENCE = 'carepipe';

export interface TestIssuer {
  jwksFile: string;
  /** Variables that make carepipe trust this issuer. */
  env: Record<string, string>;
  token(subject: string, roles: unknown, options?: { issuer?: string; audience?: string; expiresIn?: string; claim?: string }): Promise<string>;
}

export async function createTestIssuer(): Promise<TestIssuer> {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test-1', alg: 'ES256', use: 'sig' };
  const jwksFile = join(mkdtempSync(join(tmpdir(), 'carepipe-jwks-')), 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [jwk] }));
  return {
    jwksFile,
    env: { CAREPIPE_OIDC_ISSUER: TEST_ISSUER, CAREPIPE_OIDC_JWKS: jwksFile, CAREPIPE_OIDC_AUDIENCE: TEST_AUDIENCE },
    token: (subject, roles, o = {}) => sign(privateKey, subject, roles, o),
  };
}

async function sign(
  key: CryptoKey,
  subject: string,
  roles: unknown,
  o: { issuer?: string; audience?: string; expiresIn?: string; claim?: string },
): Promise<string> {
  return new SignJWT({ [o.claim ?? 'roles']: roles })
    .setProtectedHeader({ alg: 'ES256', kid: 'test-1' })
    .setSubject(subject)
    .setIssuer(o.issuer ?? TEST_ISSUER)
    .setAudience(o.audience ?? TEST_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(o.expiresIn ?? '10m')
    .sign(key);
}
