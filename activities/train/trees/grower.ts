/**
 * Grows one tree over binned data from histograms. The rows of the tree sit in one partition
 * array; a node owns a contiguous range of it and a split partitions that range in place (stably,
 * so rows stay ascending and histogram sums are added in a fixed order).
 *
 * Growth is best-first (leaf-wise, as LightGBM and scikit-learn's HistGradientBoosting grow)
 * when the number of leaves is bounded: the leaf whose best split gains most is split next,
 * until `maxLeaves`. Unbounded (a random forest's full trees) it is depth-first, which bounds the
 * histograms alive at once by the depth.
 *
 * The subtraction trick: when every node looks at the same features (gradient boosting, or a
 * forest with all features per split), only the smaller child's histogram is built from its
 * rows; the larger child's is the parent's minus it, in the parent's buffer. With a feature
 * sample per node (a random forest's `maxFeatures`) each node builds the histograms of its own
 * sample directly: k features over the node's rows costs less than all d over the smaller child's.
 * Features constant within the node do not count toward the k (scikit-learn's rule), so deep
 * nodes still compare k candidate features.
 */
import type { ForestBuilder } from './forest.js';
import { MISSING_BIN } from './binning.js';
import { BIN_STRIDE, FEATURE_STRIDE, type HistogramBuilder, type HistogramData, histogramLength, subtractHistograms } from './histogram.js';
import type { Rng } from './rng.js';
import { type SplitConstraints, type SplitInfo, emptySplit, scanFeature } from './split.js';

export interface GrowContext {
  data: HistogramData;
  /** Partition scratch, n entries. */
  scratch: Uint32Array;
  /** Value bins per feature. */
  valueBins: Uint16Array;
  /** Bin edges per feature: a split at bin t compares raw values with edges[t]. */
  edges: Float64Array[];
  histograms: HistogramBuilder;
  /** Free histogram buffers, reused across nodes and trees. */
  pool: Float64Array[];
}

export interface TreeParams extends SplitConstraints {
  maxLeaves: number;
  maxDepth: number;
  /** Features tried per node; at least the tree's feature count means all of them (and the subtraction trick). */
  featuresPerNode: number;
  /** A node's output from its gradient and hessian sums. */
  leafValue(g: number, h: number): number;
}

export interface GrownLeaf {
  node: number;
  start: number;
  end: number;
  value: number;
}

interface Node {
  id: number;
  start: number;
  end: number;
  depth: number;
  g: number;
  h: number;
  hist: Float64Array | null;
  split: SplitInfo;
  /** Creation order: breaks ties between equal gains. */
  order: number;
}

export function createGrowContext(data: HistogramData, edges: Float64Array[], histograms: HistogramBuilder): GrowContext {
  return { data, scratch: new Uint32Array(data.n), valueBins: data.valueBins, edges, histograms, pool: [] };
}

/**
 * Grows a tree over rows[0..rowCount) into `forest` (a tree already begun), looking at
 * `treeFeatures`. `identity` says the rows are 0..n-1 in order. Returns the leaves and their row ranges.
 */
export function growTree(
  ctx: GrowContext,
  forest: ForestBuilder,
  rowCount: number,
  identity: boolean,
  treeFeatures: Int32Array,
  params: TreeParams,
  rng: Rng,
): GrownLeaf[] {
  const { data } = ctx;
  const dTree = treeFeatures.length;
  const sampling = params.featuresPerNode < dTree;
  const subtraction = !sampling;
  const acquire = () => ctx.pool.pop() ?? new Float64Array(histogramLength(data.d));
  const release = (h: Float64Array | null) => {
    if (h) ctx.pool.push(h);
  };
  const nodeFeatures = new Int32Array(dTree);
  let order = 0;

  /** Finds the node's best split, building the histograms it needs unless `hist` is already filled. */
  const findSplit = (node: Node, histFilled: boolean): void => {
    const c = node.end - node.start;
    if (!sampling) {
      if (!histFilled) ctx.histograms.build(node.hist!, treeFeatures, dTree, node.start, node.end, identity && node.start === 0 && node.end === data.n);
      for (let i = 0; i < dTree; i++) {
        const f = treeFeatures[i]!;
        scanFeature(node.hist!, f, ctx.valueBins[f]!, node.g, node.h, c, params, node.split);
      }
      return;
    }
    nodeFeatures.set(treeFeatures);
    const k = Math.max(1, params.featuresPerNode);
    const isRoot = identity && node.start === 0 && node.end === data.n;
    // Draw features of a random permutation until k that vary within the node have been looked
    // at (a feature constant here cannot split it and does not count), as scikit-learn does.
    let drawn = 0;
    let varying = 0;
    while (varying < k && drawn < dTree) {
      const count = Math.min(k - varying, dTree - drawn);
      for (let i = drawn; i < drawn + count && i < dTree - 1; i++) {
        const j = i + rng.int(dTree - i);
        const t = nodeFeatures[i]!;
        nodeFeatures[i] = nodeFeatures[j]!;
        nodeFeatures[j] = t;
      }
      const chunk = nodeFeatures.subarray(drawn, drawn + count);
      ctx.histograms.build(node.hist!, chunk, count, node.start, node.end, isRoot);
      for (let i = 0; i < count; i++) {
        const f = chunk[i]!;
        if (!variesInNode(node.hist!, f, ctx.valueBins[f]!)) continue;
        varying++;
        scanFeature(node.hist!, f, ctx.valueBins[f]!, node.g, node.h, c, params, node.split);
      }
      drawn += count;
    }
  };

  const splittable = (c: number, h: number, depth: number) =>
    depth < params.maxDepth && c >= 2 * params.minSamplesLeaf && c >= 2 && h >= 2 * params.minHessianLeaf;

  // The root.
  let g0 = 0;
  let h0 = 0;
  const { gh, rows } = data;
  for (let i = 0; i < rowCount; i++) {
    const r = identity ? i : rows[i]!;
    g0 += gh[2 * r]!;
    h0 += gh[2 * r + 1]!;
  }
  const rootId = forest.addLeaf(params.leafValue(g0, h0), rowCount);
  const root: Node = { id: rootId, start: 0, end: rowCount, depth: 0, g: g0, h: h0, hist: null, split: emptySplit(), order: order++ };
  const leaves: GrownLeaf[] = [];
  const finalize = (node: Node) => {
    release(node.hist);
    node.hist = null;
    leaves.push({ node: node.id, start: node.start, end: node.end, value: params.leafValue(node.g, node.h) });
  };

  const queue = params.maxLeaves === Infinity ? new Stack() : new GainHeap();
  /** Queues a node whose split search ran, or makes it a leaf; keeps its histograms only for the subtraction trick. */
  const settle = (node: Node) => {
    if (node.split.feature >= 0) {
      if (sampling) {
        release(node.hist);
        node.hist = null;
      }
      queue.push(node);
    } else {
      finalize(node);
    }
  };

  if (splittable(rowCount, h0, 0)) {
    root.hist = acquire();
    findSplit(root, false);
  }
  settle(root);

  let leafCount = 1;
  while (queue.size > 0 && leafCount < params.maxLeaves) {
    const node = queue.pop();
    const s = node.split;
    const mid = partition(ctx, node.start, node.end, s);
    const leftId = forest.addLeaf(params.leafValue(s.gl, s.hl), mid - node.start);
    const gr = node.g - s.gl;
    const hr = node.h - s.hl;
    const rightId = forest.addLeaf(params.leafValue(gr, hr), node.end - mid);
    forest.split(node.id, s.feature, ctx.edges[s.feature]![s.bin] ?? Infinity, s.missingLeft, s.gain, leftId);
    leafCount++;
    const depth = node.depth + 1;
    const left: Node = { id: leftId, start: node.start, end: mid, depth, g: s.gl, h: s.hl, hist: null, split: emptySplit(), order: order++ };
    const right: Node = { id: rightId, start: mid, end: node.end, depth, g: gr, h: hr, hist: null, split: emptySplit(), order: order++ };
    // Once the tree has all its leaves, no child will be split: no histograms for them.
    const full = leafCount >= params.maxLeaves;
    const leftCan = !full && splittable(mid - node.start, s.hl, depth);
    const rightCan = !full && splittable(node.end - mid, hr, depth);
    if (subtraction && (leftCan || rightCan)) {
      // Build the smaller child's histograms; the larger's are the parent's minus them.
      const [small, large] = mid - node.start <= node.end - mid ? [left, right] : [right, left];
      small.hist = acquire();
      ctx.histograms.build(small.hist, treeFeatures, dTree, small.start, small.end, false);
      const largeCan = large === left ? leftCan : rightCan;
      if (largeCan) {
        subtractHistograms(node.hist!, small.hist, treeFeatures, dTree, ctx.valueBins);
        large.hist = node.hist;
      } else {
        release(node.hist);
      }
      node.hist = null;
      if (small === left ? leftCan : rightCan) findSplit(small, true);
      if (largeCan) findSplit(large, true);
      settle(left);
      settle(right);
    } else {
      release(node.hist);
      node.hist = null;
      for (const child of [left, right]) {
        if (child === left ? leftCan : rightCan) {
          child.hist = acquire();
          findSplit(child, false);
        }
        settle(child);
      }
    }
  }
  while (queue.size > 0) finalize(queue.pop());
  return leaves;
}

/** Whether the node's rows fall in more than one bin of the feature (the missing bin included). */
function variesInNode(hist: Float64Array, feature: number, bins: number): boolean {
  const o = feature * FEATURE_STRIDE;
  let occupied = hist[o + MISSING_BIN * BIN_STRIDE + 2]! > 0 ? 1 : 0;
  for (let b = 0; b < bins; b++) if (hist[o + b * BIN_STRIDE + 2]! > 0 && ++occupied > 1) return true;
  return false;
}

/** Partitions rows[start..end) stably by the split; returns where the right child starts. */
function partition(ctx: GrowContext, start: number, end: number, s: SplitInfo): number {
  const { rows } = ctx.data;
  const column = ctx.data.columns[s.feature]!;
  const scratch = ctx.scratch;
  const bin = s.bin;
  const missingLeft = s.missingLeft;
  const missing = missingLeft ? 1 : 0;
  let l = start;
  let r = 0;
  // Without branches on the data (a split sends rows left or right about at random): each row is
  // written to both sides and only the side it belongs to advances.
  for (let i = start; i < end; i++) {
    const row = rows[i]!;
    const b = column[row]!;
    const left = +(b <= bin) | (+(b === MISSING_BIN) & missing);
    rows[l] = row;
    scratch[r] = row;
    l += left;
    r += 1 - left;
  }
  rows.set(scratch.subarray(0, r), l);
  return l;
}

interface NodeQueue {
  readonly size: number;
  push(node: Node): void;
  pop(): Node;
}

class Stack implements NodeQueue {
  private items: Node[] = [];
  get size(): number {
    return this.items.length;
  }
  push(node: Node): void {
    this.items.push(node);
  }
  pop(): Node {
    return this.items.pop()!;
  }
}

/** Max-heap on split gain; equal gains by creation order. */
class GainHeap implements NodeQueue {
  private items: Node[] = [];
  get size(): number {
    return this.items.length;
  }
  private before(a: Node, b: Node): boolean {
    return a.split.gain > b.split.gain || (a.split.gain === b.split.gain && a.order < b.order);
  }
  push(node: Node): void {
    const a = this.items;
    a.push(node);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): Node {
    const a = this.items;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.before(a[l]!, a[m]!)) m = l;
        if (r < a.length && this.before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}
