/**
 * RFC 9457 problem documents: every refused request gets `application/problem+json` with a stable
 * `type`, a short `title`, a `detail` sentence, and, for bad input, the JSON pointer of the field
 * (`field`) and a reason code (`reason`). Details name fields and reasons, never values: a request
 * may carry PHI, and nothing of it is echoed back.
 */
export const PROBLEM_BASE = 'https://carepipe.dev/problems/';

export type ProblemReason =
  | 'unknown-feature'
  | 'unknown-field'
  | 'wrong-type'
  | 'out-of-range'
  | 'batch-too-large'
  | 'body-too-large'
  | 'missing-field'
  | 'invalid-body'
  | 'rejected-row'
  | 'not-an-index-stay'
  | 'raw-rows-disabled';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  field?: string;
  reason?: string;
}

/** Thrown when a request cannot be answered; the error handler turns it into its problem document. */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly title: string,
    detail: string,
    readonly field?: string,
    readonly reason?: string,
  ) {
    super(detail);
    this.name = 'ProblemError';
  }

  toProblem(): Problem {
    return {
      type: PROBLEM_BASE + this.slug,
      title: this.title,
      status: this.status,
      detail: this.message,
      ...(this.field !== undefined ? { field: this.field } : {}),
      ...(this.reason !== undefined ? { reason: this.reason } : {}),
    };
  }
}

/** A 400 naming the field (a JSON pointer into the body) and the reason. */
export function badInput(field: string, reason: ProblemReason, detail: string): ProblemError {
  return new ProblemError(400, reason, 'Bad input', `${field}: ${detail}`, field, reason);
}

export const notFound = (detail: string) => new ProblemError(404, 'not-found', 'Not found', detail);
export const unavailable = (detail: string) => new ProblemError(503, 'not-ready', 'Not ready', detail);

/** The schema of a problem document, for the OpenAPI description of every error response. */
export const PROBLEM_SCHEMA = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    field: { type: 'string' },
    reason: { type: 'string' },
  },
} as const;
