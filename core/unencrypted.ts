/**
 * What a worker's codec puts in place of a payload that arrived unencrypted (core/codec.ts,
 * `refuseUnencrypted`). The codec cannot fail the run itself: a decode error fails the workflow
 * task, which Temporal retries for ever, and an activity's decode error is retried too. So it
 * hands on this marker, and the workers' interceptors (workflows/refuse-unencrypted.ts,
 * workers/refuse-unencrypted.ts) fail the workflow or activity that receives it, non-retryably,
 * saying why. Workflow-safe: no imports.
 */

export const UNENCRYPTED_MARKER_KEY = 'carepipeRefusedPayload';
export const UNENCRYPTED_FAILURE_TYPE = 'UnencryptedPayloadError';

export interface UnencryptedMarker {
  [UNENCRYPTED_MARKER_KEY]: 'unencrypted';
  /** The payload's own encoding (e.g. json/plain), which says what sent it; never its data. */
  encoding: string;
}

export function isUnencryptedMarker(value: unknown): value is UnencryptedMarker {
  return typeof value === 'object' && value !== null && (value as Record<string, unknown>)[UNENCRYPTED_MARKER_KEY] === 'unencrypted';
}

/** The refusal's sentence for the first marker among `args`, or undefined when there is none. */
export function unencryptedRefusal(args: readonly unknown[], what: string): string | undefined {
  const i = args.findIndex(isUnencryptedMarker);
  if (i < 0) return undefined;
  const encoding = (args[i] as UnencryptedMarker).encoding;
  return `${what} argument ${i} arrived unencrypted (encoding ${encoding}): workers accept only payloads encrypted by the carepipe codec; start runs with carepipe or a client that uses its data converter`;
}
