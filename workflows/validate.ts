/** Input checks shared by workflows: invalid input fails the run at once, without retries. */
import { ApplicationFailure } from '@temporalio/workflow';
import { isIngestDate } from '../data-lake/layout.js';
import { type Permission, can, isIdentity, refusalMessage } from '../core/identity/roles.js';

export function invalid(message: string): never {
  throw ApplicationFailure.nonRetryable(message, 'InvalidInputError');
}

export function checkDateRange(from: string | undefined, to: string | undefined): void {
  if (from !== undefined && !isIngestDate(from)) invalid(`from must be a date YYYY-MM-DD, got "${from}"`);
  if (to !== undefined && !isIngestDate(to)) invalid(`to must be a date YYYY-MM-DD, got "${to}"`);
  if (from !== undefined && to !== undefined && from > to) invalid(`from (${from}) is after to (${to})`);
}

/**
 * The actor of a run must hold the permission before the run does any work. The identity is data
 * from the input (encrypted by the codec, so only holders of the codec key could write it): its
 * shape is checked too, so a client that sends none is refused rather than let through.
 */
export function checkActor(actor: unknown, permission: Permission): void {
  if (!isIdentity(actor)) throw ApplicationFailure.nonRetryable(`the input names no valid actor, so nobody may ${permission} with it`, 'ForbiddenError');
  if (!can(actor, permission)) throw ApplicationFailure.nonRetryable(refusalMessage(actor, permission), 'ForbiddenError');
}

export function checkLake(lake: string): void {
  if (!/^(s3|file):\/\//.test(lake)) invalid(`lake must be an s3:// or file:// URI, got "${lake}"`);
}

export function checkName(what: string, value: string): void {
  if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(value))
    invalid(`${what} must be 1-63 characters of a-z, 0-9, _ and -, starting with a letter or digit, got "${value}"`);
}

export function checkBucketCount(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > 4096) invalid(`bucketCount must be a whole number from 1 to 4096, got ${n}`);
}
