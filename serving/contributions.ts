/**
 * Per-feature contributions of one prediction, one function per model family. Each gives a base
 * value and one contribution per transformed column, which are then summed per input feature (a
 * categorical's one-hot columns, a numeric's missing indicator, count toward their feature).
 *
 * - logreg: exact, in log-odds: base = intercept, column j contributes coef_j * x_j (x_j after
 *   imputation and standardisation), so base + sum = logit(probability).
 * - gbdt / rf: TreeSHAP path-dependent contributions (gbdt: log-odds margin; rf: probability),
 *   from `serving/tree-shap.ts` (checked against the shap package in a test).
 * - mlp: none (null).
 */
import type { PreprocessingPipeline } from '../activities/features/pipeline.js';
import { featureMapping } from '../activities/features/pipeline.js';
import type { ModelParameters } from '../activities/registry/load-model.js';
import type { Forest } from '../activities/train/trees/forest.js';
import { treeShapContributions } from './tree-shap.js';

export interface ColumnContributions {
  base: number;
  /** One per transformed column. */
  contributions: Float64Array;
}

export interface Contributions {
  /** log-odds (logreg, gbdt) or probability (rf). */
  scale: 'log-odds' | 'probability';
  base: number;
  /** Per input feature, in the pipeline's order. */
  values: Record<string, number>;
}

type TreeContributions = (forest: Forest, x: Float64Array) => ColumnContributions;
const TREE_CONTRIBUTIONS: TreeContributions = treeShapContributions;

/** The contributions function of a loaded model, or null when its family has none (yet). */
export function contributionsFor(parameters: ModelParameters, pipeline: PreprocessingPipeline): ((x: Float64Array) => Contributions) | null {
  const groups = inputGroups(pipeline);
  switch (parameters.kind) {
    case 'logreg': {
      const coef = Float64Array.from(parameters.model.coef);
      const intercept = parameters.model.intercept;
      return (x) => {
        const c = new Float64Array(coef.length);
        for (let j = 0; j < coef.length; j++) c[j] = coef[j]! * x[j]!;
        return summed('log-odds', { base: intercept, contributions: c }, groups);
      };
    }
    case 'trees': {
      const shap = TREE_CONTRIBUTIONS;
      const forest = parameters.forest;
      const scale = forest.kind === 'gbdt' ? 'log-odds' : 'probability';
      return (x) => summed(scale, shap(forest, x), groups);
    }
    case 'mlp':
      return null;
  }
}

/** Transformed column indices per input feature, in pipeline order. */
function inputGroups(pipeline: PreprocessingPipeline): { name: string; columns: number[] }[] {
  const byInput = new Map<string, number[]>();
  for (const o of featureMapping(pipeline).outputs) {
    let cols = byInput.get(o.input);
    if (!cols) byInput.set(o.input, (cols = []));
    cols.push(o.index);
  }
  return [...byInput].map(([name, columns]) => ({ name, columns }));
}

function summed(scale: Contributions['scale'], c: ColumnContributions, groups: { name: string; columns: number[] }[]): Contributions {
  const values: Record<string, number> = {};
  for (const g of groups) {
    let s = 0;
    for (const j of g.columns) s += c.contributions[j]!;
    values[g.name] = s;
  }
  return { scale, base: c.base, values };
}
