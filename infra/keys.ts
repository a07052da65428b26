/**
 * Local dev keys: one codec key (payload encryption) and one pseudonym key (de-identification),
 * created once in the state folder with owner-only permissions. Production supplies its own
 * through CAREPIPE_KEY_FILE or CAREPIPE_CODEC_KEYS / CAREPIPE_PSEUDONYM_KEYS.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export function newKeyFileContent(id = `dev-${new Date().toISOString().slice(0, 10)}`): string {
  const key = () => randomBytes(32).toString('base64');
  const ring = () => ({ active: id, keys: { [id]: key() } });
  return JSON.stringify({ codec: ring(), pseudonym: ring(), audit: ring() }, null, 2) + '\n';
}

/** Creates the key file if absent; returns whether it was created. */
export function ensureDevKeyFile(file: string): boolean {
  if (existsSync(file)) return false;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, newKeyFileContent(), { mode: 0o600, flag: 'wx' });
  return true;
}
