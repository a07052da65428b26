/**
 * The lakes a worker may touch: a workflow input names its lake, and without this check any
 * client of the namespace could point the workers (and their keys) at a lake of its choosing.
 * An allowed entry admits itself and every prefix below it (`s3://b/p` admits `s3://b/p/x`, not `s3://b/px`).
 */
import { LakeNotAllowedError } from '../errors.js';
import { parseLakeUri } from '../config.js';

export function isLakeAllowed(uri: string, allow: readonly string[]): boolean {
  let normal: string;
  try {
    normal = parseLakeUri(uri, 'lake').uri;
  } catch {
    return false;
  }
  return allow.some((a) => normal === a || normal.startsWith(a.endsWith('/') ? a : `${a}/`));
}

/** Throws LakeNotAllowedError (non-retryable) naming the lake and the setting when it is not allowed. */
export function checkLakeAllowed(uri: string, allow: readonly string[]): void {
  if (!isLakeAllowed(uri, allow)) {
    throw new LakeNotAllowedError(`lake ${uri} is not on this worker's allow-list (CAREPIPE_LAKE_ALLOW: ${allow.join(', ')})`);
  }
}
