/**
 * Small dense linear algebra for the model families: a Cholesky factorisation and solve of a
 * symmetric positive-definite p x p system stored row-major in a Float64Array. p is the number
 * of features plus one (at most a few hundred), so the O(p^3) factorisation is cheap next to
 * the O(n p^2) pass that builds the matrix.
 */

/**
 * Factors `a` (row-major p x p, symmetric; only the lower triangle is read) into L with
 * a = L L^T, written into the lower triangle of `a` in place. Returns false, leaving `a`
 * partly overwritten, when a pivot is not positive (the matrix is not positive definite).
 */
export function choleskyInPlace(a: Float64Array, p: number): boolean {
  for (let j = 0; j < p; j++) {
    const rowJ = j * p;
    let pivot = a[rowJ + j]!;
    for (let k = 0; k < j; k++) pivot -= a[rowJ + k]! * a[rowJ + k]!;
    // A pivot that is not clearly positive means a singular (or indefinite) matrix: going on
    // would divide by ~0 and return a meaningless step.
    if (!(pivot > 0) || !Number.isFinite(pivot)) return false;
    const ljj = Math.sqrt(pivot);
    a[rowJ + j] = ljj;
    for (let i = j + 1; i < p; i++) {
      const rowI = i * p;
      let sum = a[rowI + j]!;
      for (let k = 0; k < j; k++) sum -= a[rowI + k]! * a[rowJ + k]!;
      a[rowI + j] = sum / ljj;
    }
  }
  return true;
}

/** Solves L L^T x = b given the factor from {@link choleskyInPlace}; returns a new array. */
export function choleskySolve(l: Float64Array, p: number, b: Float64Array): Float64Array {
  const x = Float64Array.from(b);
  // Forward substitution: L y = b.
  for (let i = 0; i < p; i++) {
    const rowI = i * p;
    let sum = x[i]!;
    for (let k = 0; k < i; k++) sum -= l[rowI + k]! * x[k]!;
    x[i] = sum / l[rowI + i]!;
  }
  // Back substitution: L^T x = y.
  for (let i = p - 1; i >= 0; i--) {
    let sum = x[i]!;
    for (let k = i + 1; k < p; k++) sum -= l[k * p + i]! * x[k]!;
    x[i] = sum / l[i * p + i]!;
  }
  return x;
}
