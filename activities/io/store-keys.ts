/**
 * Key rules shared by the stores: joining, ordering, validation. Keys are relative to the lake
 * root and use `/` separators; a prefix is a key's beginning, often ending in `/`.
 */
import { InvalidInputError } from '../../core/errors.js';

/**
 * Names starting with this are FileStore's own (temp files, the lock folder, and what earlier
 * versions left: the `.carepipe/` etag tree and `.carepipe-etag.*` sidecars): no key segment may
 * start so, and listings never show them.
 */
export const RESERVED_NAME_PREFIX = '.carepipe';

/**
 * Joins key parts with single slashes: `joinKey('features/', '/ds', 'v1/')` is `features/ds/v1/`.
 * Empty parts are skipped; a trailing slash on the last part is kept, so prefixes stay prefixes.
 */
export function joinKey(...parts: string[]): string {
  const inner = parts.map((p) => p.replace(/^\/+|\/+$/g, '')).filter((p) => p !== '');
  const last = parts.at(-1) ?? '';
  return inner.join('/') + (inner.length > 0 && last.endsWith('/') ? '/' : '');
}

/**
 * S3's order: by UTF-8 bytes, which is Unicode code point order. JavaScript's `<` compares UTF-16
 * code units and disagrees for characters above U+FFFF against U+E000..U+FFFF.
 */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Validates `[start, end)` so both stores reject the same ranges. */
export function checkRange(objectUri: string, start: number, end: number): void {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new InvalidInputError(`${objectUri}: a byte range needs whole numbers 0 <= start <= end, got [${start}, ${end}).`);
  }
}

function checkSegments(what: string, value: string, segments: string[], rootUri: string): void {
  for (const segment of segments) {
    let problem: string | undefined;
    if (segment === '') problem = 'has an empty path segment (a leading, doubled or trailing "/")';
    else if (segment === '.' || segment === '..') problem = `has a "${segment}" segment, which could leave the lake root`;
    else if (segment.startsWith(RESERVED_NAME_PREFIX)) problem = `uses the reserved name prefix "${RESERVED_NAME_PREFIX}"`;
    else if (segment.includes('\0')) problem = 'contains a NUL character';
    if (problem) throw new InvalidInputError(`${rootUri}: ${what} "${value}" ${problem}.`);
  }
}

/** A key that names a file under the root: relative, no empty, `.` or `..` segments. */
export function checkFileKey(key: string, rootUri: string): void {
  if (key === '') throw new InvalidInputError(`${rootUri}: an object key must not be empty.`);
  checkSegments('key', key, key.split('/'), rootUri);
}

/** A listing prefix: '' or a key's beginning; every complete segment must be a valid one. */
export function checkFilePrefix(prefix: string, rootUri: string): void {
  if (prefix === '') return;
  const segments = prefix.split('/');
  const partial = segments.pop() ?? '';
  checkSegments('prefix', prefix, segments, rootUri);
  if (partial.includes('\0')) throw new InvalidInputError(`${rootUri}: prefix "${prefix}" contains a NUL character.`);
}
