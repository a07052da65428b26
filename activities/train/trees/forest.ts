/**
 * The tree ensemble as flat typed arrays: one entry per node, trees one after another, a tree's
 * nodes indexed from its start (so trees move between forests without rewriting). A node is a
 * leaf when `left` is -1; otherwise rows with value <= threshold go to `left` and the others to
 * `left + 1`, missing values (NaN) to the side `missingLeft` names. Gradient boosting adds the
 * leaf values of every tree to `baseScore` and takes the logistic; a random forest averages its
 * trees' leaf probabilities.
 */
import { InvalidInputError } from '../../../core/errors.js';

export type ForestKind = 'gbdt' | 'rf';

export interface Forest {
  kind: ForestKind;
  /** Columns of the matrix the forest was trained on. */
  nFeatures: number;
  /** gbdt: the raw score (log-odds) before the first tree; rf: 0. */
  baseScore: number;
  /** Node index where each tree starts; trees + 1 entries, the last is the node count. */
  treeStart: Int32Array;
  feature: Int32Array;
  threshold: Float64Array;
  /** Tree-relative index of the left child (the right child follows it); -1 at a leaf. */
  left: Int32Array;
  missingLeft: Uint8Array;
  /** gbdt: the leaf's raw-score increment (learning rate included); rf: the leaf's P(y = 1). Inner nodes carry theirs too. */
  value: Float64Array;
  /** The split's gain; 0 at leaves. */
  gain: Float32Array;
  /** Training rows (in-bag rows, for a random forest) that reached the node. */
  cover: Float32Array;
}

export const treeCount = (f: Forest): number => f.treeStart.length - 1;
export const nodeCount = (f: Forest): number => f.feature.length;

/** Grows the arrays of a forest tree by tree, node by node. */
export class ForestBuilder {
  private capacity = 1024;
  private size = 0;
  private treeStarts: number[] = [];
  feature = new Int32Array(this.capacity);
  threshold = new Float64Array(this.capacity);
  left = new Int32Array(this.capacity);
  missingLeft = new Uint8Array(this.capacity);
  value = new Float64Array(this.capacity);
  gain = new Float32Array(this.capacity);
  cover = new Float32Array(this.capacity);

  constructor(
    readonly kind: ForestKind,
    readonly nFeatures: number,
    public baseScore: number,
  ) {}

  get trees(): number {
    return this.treeStarts.length;
  }

  /** Absolute index of the current tree's first node. */
  get currentStart(): number {
    return this.treeStarts[this.treeStarts.length - 1] ?? 0;
  }

  beginTree(): void {
    this.treeStarts.push(this.size);
  }

  /** Drops the trees from `trees` on (early stopping keeps the best iteration). */
  truncate(trees: number): void {
    if (trees >= this.treeStarts.length) return;
    this.size = this.treeStarts[trees]!;
    this.treeStarts.length = trees;
  }

  /** Appends a leaf to the current tree; returns its tree-relative index. */
  addLeaf(value: number, cover: number): number {
    if (this.size === this.capacity) this.grow();
    const i = this.size++;
    this.feature[i] = -1;
    this.threshold[i] = 0;
    this.left[i] = -1;
    this.missingLeft[i] = 0;
    this.value[i] = value;
    this.gain[i] = 0;
    this.cover[i] = cover;
    return i - this.currentStart;
  }

  /** Turns a leaf of the current tree into a split whose children are the next two leaves added. */
  split(node: number, feature: number, threshold: number, missingLeft: boolean, gain: number, left: number): void {
    const i = this.currentStart + node;
    this.feature[i] = feature;
    this.threshold[i] = threshold;
    this.left[i] = left;
    this.missingLeft[i] = missingLeft ? 1 : 0;
    this.gain[i] = gain;
  }

  /** Sets the output of a node of the current tree. */
  setValue(node: number, value: number): void {
    this.value[this.currentStart + node] = value;
  }

  private grow(): void {
    this.capacity *= 2;
    const grown = <T extends Int32Array | Float64Array | Uint8Array | Float32Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(this.capacity);
      b.set(a);
      return b;
    };
    this.feature = grown(this.feature);
    this.threshold = grown(this.threshold);
    this.left = grown(this.left);
    this.missingLeft = grown(this.missingLeft);
    this.value = grown(this.value);
    this.gain = grown(this.gain);
    this.cover = grown(this.cover);
  }

  finish(): Forest {
    const n = this.size;
    return {
      kind: this.kind,
      nFeatures: this.nFeatures,
      baseScore: this.baseScore,
      treeStart: Int32Array.from([...this.treeStarts, n]),
      feature: this.feature.slice(0, n),
      threshold: this.threshold.slice(0, n),
      left: this.left.slice(0, n),
      missingLeft: this.missingLeft.slice(0, n),
      value: this.value.slice(0, n),
      gain: this.gain.slice(0, n),
      cover: this.cover.slice(0, n),
    };
  }
}

interface NodeArrays {
  feature: Int32Array;
  threshold: Float64Array;
  left: Int32Array;
  missingLeft: Uint8Array;
  value: Float64Array;
}

/** The leaf value one tree (starting at absolute node `start`) gives row `row` of a row-major matrix. */
export function treeValueAt(a: NodeArrays, start: number, x: Float64Array, d: number, row: number): number {
  const { feature, threshold, left, missingLeft } = a;
  const base = row * d;
  let node = start;
  let l: number;
  while ((l = left[node]!) >= 0) {
    const v = x[base + feature[node]!]!;
    node = start + l + (v <= threshold[node]! || (v !== v && missingLeft[node] === 1) ? 0 : 1);
  }
  return a.value[node]!;
}

/**
 * Prediction walks each tree for a block of rows. Small trees (gradient boosting's) stay in cache
 * and are walked from the flat arrays directly. Large trees (a random forest's, tens of thousands
 * of nodes) are walked from a packed copy: four doubles a node (threshold, value, feature * 2 +
 * "missing goes left", 4 x the absolute index of the left child or -1), so a step down touches one
 * cache line instead of five arrays (measured: a quarter faster for forests, a quarter slower for
 * boosted trees, hence both). The copy is built once per forest, on first use.
 */
const LARGE_TREE_NODES = 2048;
const packedCache = new WeakMap<Forest, Float64Array>();

function packed(f: Forest): Float64Array {
  let p = packedCache.get(f);
  if (p) return p;
  p = new Float64Array(f.feature.length * 4);
  const trees = f.treeStart.length - 1;
  for (let t = 0; t < trees; t++) {
    const start = f.treeStart[t]!;
    for (let i = start; i < f.treeStart[t + 1]!; i++) {
      const l = f.left[i]!;
      p[4 * i] = f.threshold[i]!;
      p[4 * i + 1] = f.value[i]!;
      p[4 * i + 2] = l < 0 ? 0 : f.feature[i]! * 2 + f.missingLeft[i]!;
      p[4 * i + 3] = l < 0 ? -1 : 4 * (start + l);
    }
  }
  packedCache.set(f, p);
  return p;
}

/** Rows scored per block: a block's values stay in cache while every tree visits them. */
function largeTrees(f: Forest): boolean {
  return f.feature.length / Math.max(1, f.treeStart.length - 1) > LARGE_TREE_NODES;
}

function blockRows(f: Forest): number {
  // A block's rows should stay in cache while the trees walk them: about 2 MiB of values for large
  // trees (visited by many rows while their nodes are cached), 512 KiB for small ones.
  const bytesPerRow = 8 * Math.max(1, f.nFeatures);
  return largeTrees(f)
    ? Math.max(256, Math.min(16_384, Math.floor((2 << 20) / bytesPerRow)))
    : Math.max(64, Math.min(2048, Math.floor((512 << 10) / bytesPerRow)));
}

/** Sum of the trees' leaf values per row of a row-major n x d matrix (baseScore not included). */
export function sumTreesRowMajor(f: Forest, x: Float64Array, n: number, d: number): Float64Array {
  checkShape(f, x.length, n, d);
  return sumByBlocks(f, n, (nodes, start, r0, r1, out) => {
    if (nodes) sumTreeRowMajor(nodes, 4 * start, x, d, r0, r1, out);
    else sumTreeArraysRowMajor(f, start, x, d, r0, r1, out);
  });
}

/**
 * Rows in cache-sized blocks, every tree over each block: `walk` adds tree `start`'s values for
 * rows r0..r1 to `out`, from the packed nodes for large trees (null otherwise: the flat arrays).
 */
function sumByBlocks(f: Forest, n: number, walk: (nodes: Float64Array | null, start: number, r0: number, r1: number, out: Float64Array) => void): Float64Array {
  const out = new Float64Array(n);
  const { treeStart } = f;
  const trees = treeStart.length - 1;
  const block = blockRows(f);
  const nodes = largeTrees(f) ? packed(f) : null;
  for (let r0 = 0; r0 < n; r0 += block) {
    const r1 = Math.min(n, r0 + block);
    for (let t = 0; t < trees; t++) walk(nodes, treeStart[t]!, r0, r1, out);
  }
  return out;
}

function sumTreeArraysRowMajor(f: Forest, start: number, x: Float64Array, d: number, r0: number, r1: number, out: Float64Array): void {
  const { feature, threshold, left, missingLeft, value } = f;
  for (let r = r0; r < r1; r++) {
    const base = r * d;
    let node = start;
    let l: number;
    while ((l = left[node]!) >= 0) {
      const v = x[base + feature[node]!]!;
      node = start + l + (v <= threshold[node]! || (v !== v && missingLeft[node] === 1) ? 0 : 1);
    }
    out[r] = out[r]! + value[node]!;
  }
}

function sumTreeRowMajor(nodes: Float64Array, root: number, x: Float64Array, d: number, r0: number, r1: number, out: Float64Array): void {
  for (let r = r0; r < r1; r++) {
    const base = r * d;
    let p = root;
    let l: number;
    while ((l = nodes[p + 3]!) >= 0) {
      const fm = nodes[p + 2]!;
      const v = x[base + (fm >> 1)]!;
      p = v <= nodes[p]! || (v !== v && (fm & 1) === 1) ? l : l + 4;
    }
    out[r] = out[r]! + nodes[p + 1]!;
  }
}

/** Sum of the trees' leaf values per row, from one Float64Array per feature (Arrow columns' values). */
export function sumTreesColumns(f: Forest, columns: readonly Float64Array[], n: number): Float64Array {
  if (columns.length !== f.nFeatures) throw new InvalidInputError(`trees: the model has ${f.nFeatures} features but ${columns.length} columns were given`);
  columns.forEach((c, j) => {
    if (c.length < n) throw new InvalidInputError(`trees: column ${j} has ${c.length} values, expected ${n}`);
  });
  return sumByBlocks(f, n, (nodes, start, r0, r1, out) => {
    if (nodes) sumTreeColumns(nodes, 4 * start, columns, r0, r1, out);
    else sumTreeArraysColumns(f, start, columns, r0, r1, out);
  });
}

function sumTreeArraysColumns(f: Forest, start: number, columns: readonly Float64Array[], r0: number, r1: number, out: Float64Array): void {
  const { feature, threshold, left, missingLeft, value } = f;
  for (let r = r0; r < r1; r++) {
    let node = start;
    let l: number;
    while ((l = left[node]!) >= 0) {
      const v = columns[feature[node]!]![r]!;
      node = start + l + (v <= threshold[node]! || (v !== v && missingLeft[node] === 1) ? 0 : 1);
    }
    out[r] = out[r]! + value[node]!;
  }
}

function sumTreeColumns(nodes: Float64Array, root: number, columns: readonly Float64Array[], r0: number, r1: number, out: Float64Array): void {
  for (let r = r0; r < r1; r++) {
    let p = root;
    let l: number;
    while ((l = nodes[p + 3]!) >= 0) {
      const fm = nodes[p + 2]!;
      const v = columns[fm >> 1]![r]!;
      p = v <= nodes[p]! || (v !== v && (fm & 1) === 1) ? l : l + 4;
    }
    out[r] = out[r]! + nodes[p + 1]!;
  }
}

export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** Turns per-row sums of leaf values into P(y = 1), in place. */
export function sumsToProbabilities(f: Forest, sums: Float64Array): Float64Array {
  const trees = treeCount(f);
  if (f.kind === 'gbdt') {
    for (let i = 0; i < sums.length; i++) sums[i] = sigmoid(f.baseScore + sums[i]!);
  } else {
    const scale = trees > 0 ? 1 / trees : 0;
    for (let i = 0; i < sums.length; i++) sums[i] = sums[i]! * scale;
  }
  return sums;
}

/** P(y = 1) per row of a row-major n x d matrix. NaN is a missing value. */
export function predictProba(f: Forest, x: Float64Array, n: number, d: number): Float64Array {
  return sumsToProbabilities(f, sumTreesRowMajor(f, x, n, d));
}

/** P(y = 1) per row, from one Float64Array per feature (zero-copy views of Arrow Float64 columns). */
export function predictProbaColumns(f: Forest, columns: readonly Float64Array[], n: number): Float64Array {
  return sumsToProbabilities(f, sumTreesColumns(f, columns, n));
}

function checkShape(f: Forest, length: number, n: number, d: number): void {
  if (d !== f.nFeatures) throw new InvalidInputError(`trees: the model has ${f.nFeatures} features but the matrix has ${d} columns`);
  if (!Number.isInteger(n) || n < 0 || length !== n * d) throw new InvalidInputError(`trees: the matrix has ${length} values, expected n * d = ${n * d}`);
}

/** One forest of the trees of several of the same kind, in the order given (sub-forests into a random forest). */
export function mergeForests(parts: readonly Forest[]): Forest {
  const first = parts[0];
  if (!first) throw new InvalidInputError('trees: nothing to merge');
  for (const p of parts) {
    if (p.kind !== first.kind || p.nFeatures !== first.nFeatures || p.baseScore !== first.baseScore) {
      throw new InvalidInputError('trees: only forests of the same kind, width and base score merge');
    }
  }
  const nodes = parts.reduce((s, p) => s + nodeCount(p), 0);
  const trees = parts.reduce((s, p) => s + treeCount(p), 0);
  const out: Forest = {
    kind: first.kind,
    nFeatures: first.nFeatures,
    baseScore: first.baseScore,
    treeStart: new Int32Array(trees + 1),
    feature: new Int32Array(nodes),
    threshold: new Float64Array(nodes),
    left: new Int32Array(nodes),
    missingLeft: new Uint8Array(nodes),
    value: new Float64Array(nodes),
    gain: new Float32Array(nodes),
    cover: new Float32Array(nodes),
  };
  let nodeOffset = 0;
  let treeOffset = 0;
  for (const p of parts) {
    const t = treeCount(p);
    for (let i = 0; i < t; i++) out.treeStart[treeOffset + i] = p.treeStart[i]! + nodeOffset;
    out.feature.set(p.feature, nodeOffset);
    out.threshold.set(p.threshold, nodeOffset);
    out.left.set(p.left, nodeOffset);
    out.missingLeft.set(p.missingLeft, nodeOffset);
    out.value.set(p.value, nodeOffset);
    out.gain.set(p.gain, nodeOffset);
    out.cover.set(p.cover, nodeOffset);
    nodeOffset += nodeCount(p);
    treeOffset += t;
  }
  out.treeStart[trees] = nodes;
  return out;
}
