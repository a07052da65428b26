/**
 * Domain errors. Each has a stable `type` (also its `name`, which Temporal uses as the failure
 * type), keeps its `cause`, and never carries PHI in its message: messages name files, rows and
 * fields, never values. Workflow-safe: no imports.
 */

export abstract class CarepipeError extends Error {
  abstract readonly type: string;
  /** Whether retrying the same call could succeed. */
  abstract readonly retryable: boolean;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

function named<T extends string>(type: T, retryable: boolean) {
  return class extends CarepipeError {
    readonly type = type;
    readonly retryable = retryable;
    constructor(message: string, options?: { cause?: unknown }) {
      super(message, options);
      this.name = type;
    }
  };
}

/** Thrown when configuration is missing, malformed or contradictory. */
export class ConfigError extends named('ConfigError', false) {}
/** Thrown when a file's columns do not match the data contract. */
export class SchemaMismatchError extends named('SchemaMismatchError', false) {}
/** Thrown when a file cannot be decoded (truncated, corrupt, not Parquet). */
export class CorruptFileError extends named('CorruptFileError', false) {}
/** Thrown when a workflow or activity input is invalid. */
export class InvalidInputError extends named('InvalidInputError', false) {}
/** Thrown when an object the caller relies on does not exist. */
export class NotFoundError extends named('NotFoundError', false) {}
/** Thrown when a conditional write loses: the object exists, or changed since it was read. */
export class PreconditionFailedError extends named('PreconditionFailedError', false) {}
/** Thrown when an identity lacks the permission for what it asked (core/identity/roles.ts). */
export class ForbiddenError extends named('ForbiddenError', false) {}
/** Thrown when a caller's token is absent, malformed, expired or not from the trusted issuer. */
export class UnauthenticatedError extends named('UnauthenticatedError', false) {}
/** Thrown when a worker receives a payload that was not encrypted by the codec (core/codec.ts). */
export class UnencryptedPayloadError extends named('UnencryptedPayloadError', false) {}
/** Thrown when a workflow names a lake that is not on the worker's allow-list (CAREPIPE_LAKE_ALLOW). */
export class LakeNotAllowedError extends named('LakeNotAllowedError', false) {}
/** Thrown when an audit chain is broken (a record edited, removed, forged or truncated): never retried, someone must look. */
export class AuditChainError extends named('AuditChainError', false) {}
/** Thrown when the store or a service is unreachable or throttling: worth retrying. */
export class TransientError extends named('TransientError', true) {}

/** Failure types Temporal must never retry: listed in every retry policy. */
export const NON_RETRYABLE_ERROR_TYPES = [
  'ConfigError',
  'SchemaMismatchError',
  'CorruptFileError',
  'InvalidInputError',
  'NotFoundError',
  'PreconditionFailedError',
  'ForbiddenError',
  'UnencryptedPayloadError',
  'LakeNotAllowedError',
  'AuditChainError',
] as const;

/** The one place that decides whether an error is worth retrying. Unknown errors are retried. */
export function classify(err: unknown): { type: string; retryable: boolean } {
  if (err instanceof CarepipeError) return { type: err.type, retryable: err.retryable };
  const name = err instanceof Error ? err.name : 'UnknownError';
  return { type: name, retryable: !(NON_RETRYABLE_ERROR_TYPES as readonly string[]).includes(name) };
}
