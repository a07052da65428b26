/**
 * The serialised logistic-regression model (registry model.json) and the input checks shared by
 * fitting and scoring.
 */
import { InvalidInputError } from '../../core/errors.js';

/** A fitted model; plain JSON, so `JSON.parse(JSON.stringify(model))` is the same model. */
export interface LogRegModel {
  kind: 'logreg';
  intercept: number;
  /** One coefficient per feature column, in column order. */
  coef: number[];
  /** Newton iterations run. */
  iterations: number;
  /** False when maxIter was reached or the line search stalled before the tolerance was met. */
  converged: boolean;
  /** Mean log loss on the training rows, unweighted and without the penalty. */
  trainLogLoss: number;
}

/** Validates a parsed model.json; throws InvalidInputError naming the first bad field. */
export function parseLogRegModel(value: unknown): LogRegModel {
  if (typeof value !== 'object' || value === null) throw new InvalidInputError('logreg: model is not a JSON object');
  const v = value as Record<string, unknown>;
  if (v.kind !== 'logreg') throw new InvalidInputError('logreg: model field "kind" is not "logreg"');
  const finite = (field: string): number => {
    const x = v[field];
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new InvalidInputError(`logreg: model field "${field}" is not a finite number`);
    return x;
  };
  const coef = v.coef;
  if (!Array.isArray(coef) || !coef.every((c) => typeof c === 'number' && Number.isFinite(c))) {
    throw new InvalidInputError('logreg: model field "coef" is not an array of finite numbers');
  }
  if (typeof v.converged !== 'boolean') throw new InvalidInputError('logreg: model field "converged" is not a boolean');
  return {
    kind: 'logreg',
    intercept: finite('intercept'),
    coef: coef as number[],
    iterations: finite('iterations'),
    converged: v.converged,
    trainLogLoss: finite('trainLogLoss'),
  };
}

/**
 * Checks shape and finiteness of a row-major n x d matrix. The message names the column (and
 * first row) of a NaN or infinity, never the value: imputation and scaling must come first.
 */
export function checkFeatureMatrix(x: Float64Array, n: number, d: number, domain: string): void {
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(d) || d < 0) {
    throw new InvalidInputError(`${domain}: the matrix needs n >= 1 rows and d >= 0 columns`);
  }
  if (x.length !== n * d) throw new InvalidInputError(`${domain}: the matrix has ${x.length} values, expected n * d = ${n * d}`);
  for (let k = 0; k < x.length; k++) {
    if (!Number.isFinite(x[k]!)) {
      const row = Math.floor(k / d);
      throw new InvalidInputError(
        `${domain}: feature column ${k - row * d} has a non-finite value (NaN or infinity) at row ${row}; impute and scale before this step`,
      );
    }
  }
}
