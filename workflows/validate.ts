/** Input checks shared by workflows: invalid input fails the run at once, without retries. */
import { ApplicationFailure } from '@temporalio/workflow';
import { isIngestDate } from '../data-lake/layout.js';

export function invalid(message: string): never {
  throw ApplicationFailure.nonRetryable(message, 'InvalidInputError');
}

export function checkDateRange(from: string | undefined, to: string | undefined): void {
  if (from !== undefined && !isIngestDate(from)) invalid(`from must be a date YYYY-MM-DD, got "${from}"`);
  if (to !== undefined && !isIngestDate(to)) invalid(`to must be a date YYYY-MM-DD, got "${to}"`);
  if (from !== undefined && to !== undefined && from > to) invalid(`from (${from}) is after to (${to})`);
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
