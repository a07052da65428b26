/**
 * The saved tree model: `model.json` (a header: kind, width, counts, how the arrays lie in the
 * blob, the blob's SHA-256, and whatever training record the caller adds) and `model.bin` (the
 * node arrays back to back, little-endian, each at an 8-byte-aligned offset). About 33 bytes a
 * node, loaded with one copy per array and no parsing. Loading checks the hash and the tree
 * structure (children after their parent and inside their tree, features inside the width), so a
 * damaged file fails with CorruptFileError instead of predicting nonsense.
 *
 * A packed form (one file: magic, header length, header, blob) carries sub-forests between
 * activities (registry/<model>/<version>/parts/subforest-<k>.bin).
 */
import { createHash } from 'node:crypto';
import { endianness } from 'node:os';
import { CorruptFileError } from '../../../core/errors.js';
import type { Forest, ForestKind } from './forest.js';

export const FOREST_FORMAT = 'carepipe-trees-1';
export const BLOB_FILE = 'model.bin';
const MAGIC = 'CPTREES1';

type ArrayName = 'threshold' | 'value' | 'treeStart' | 'feature' | 'left' | 'gain' | 'cover' | 'missingLeft';
type DType = 'float64' | 'int32' | 'float32' | 'uint8';
const LAYOUT: readonly [ArrayName, DType][] = [
  ['threshold', 'float64'],
  ['value', 'float64'],
  ['treeStart', 'int32'],
  ['feature', 'int32'],
  ['left', 'int32'],
  ['gain', 'float32'],
  ['cover', 'float32'],
  ['missingLeft', 'uint8'],
];
const CTOR = { float64: Float64Array, int32: Int32Array, float32: Float32Array, uint8: Uint8Array } as const;

export interface ArraySpan {
  dtype: DType;
  /** Byte offset in the blob. */
  offset: number;
  length: number;
}

export interface ForestHeader {
  format: typeof FOREST_FORMAT;
  kind: ForestKind;
  /** How a row's score is made: the logistic of baseScore + the sum of leaf values (gbdt), or the mean of leaf probabilities (rf). */
  output: 'logistic-of-sum' | 'mean-of-leaves';
  nFeatures: number;
  baseScore: number;
  trees: number;
  nodes: number;
  blob: { file: string; bytes: number; sha256: string; endianness: 'LE'; arrays: Record<ArrayName, ArraySpan> };
  /** Hyperparameters, training details: recorded, not read back. */
  training?: Record<string, unknown>;
}

function checkHost(): void {
  if (endianness() !== 'LE') throw new CorruptFileError('trees: the model format is little-endian and this host is not');
}

export function encodeForest(f: Forest, training?: Record<string, unknown>): { header: ForestHeader; blob: Uint8Array } {
  checkHost();
  const arrays = {} as Record<ArrayName, ArraySpan>;
  let bytes = 0;
  for (const [name, dtype] of LAYOUT) {
    arrays[name] = { dtype, offset: bytes, length: f[name].length };
    bytes += Math.ceil(f[name].byteLength / 8) * 8;
  }
  const blob = new Uint8Array(bytes);
  for (const [name] of LAYOUT) {
    const a = f[name];
    blob.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), arrays[name].offset);
  }
  const header: ForestHeader = {
    format: FOREST_FORMAT,
    kind: f.kind,
    output: f.kind === 'gbdt' ? 'logistic-of-sum' : 'mean-of-leaves',
    nFeatures: f.nFeatures,
    baseScore: f.baseScore,
    trees: f.treeStart.length - 1,
    nodes: f.feature.length,
    blob: { file: BLOB_FILE, bytes, sha256: createHash('sha256').update(blob).digest('hex'), endianness: 'LE', arrays },
    ...(training ? { training } : {}),
  };
  return { header, blob };
}

/** The forest of a header and its blob; throws CorruptFileError naming what does not hold. */
export function decodeForest(headerValue: unknown, blob: Uint8Array): Forest {
  checkHost();
  const bad = (what: string) => new CorruptFileError(`trees: model ${what}`);
  if (typeof headerValue !== 'object' || headerValue === null) throw bad('header is not a JSON object');
  const h = headerValue as Partial<ForestHeader>;
  if (h.format !== FOREST_FORMAT) throw bad(`header field "format" is not "${FOREST_FORMAT}"`);
  if (h.kind !== 'gbdt' && h.kind !== 'rf') throw bad('header field "kind" is not "gbdt" or "rf"');
  const whole = (v: unknown, field: string) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw bad(`header field "${field}" is not a whole number`);
    return v;
  };
  const nFeatures = whole(h.nFeatures, 'nFeatures');
  const trees = whole(h.trees, 'trees');
  const nodes = whole(h.nodes, 'nodes');
  if (typeof h.baseScore !== 'number' || !Number.isFinite(h.baseScore)) throw bad('header field "baseScore" is not a finite number');
  const spec = h.blob;
  if (!spec || typeof spec !== 'object' || typeof spec.arrays !== 'object') throw bad('header field "blob" is missing');
  if (spec.bytes !== blob.length) throw bad(`blob has ${blob.length} bytes, the header says ${spec.bytes}`);
  if (createHash('sha256').update(blob).digest('hex') !== spec.sha256) throw bad('blob does not match the SHA-256 in its header');
  const read = <N extends ArrayName>(name: N, dtype: DType, length: number) => {
    const s = spec.arrays[name];
    if (!s || s.dtype !== dtype || s.length !== length || !Number.isInteger(s.offset) || s.offset % 8 !== 0)
      throw bad(`array "${name}" is not ${length} x ${dtype} at an aligned offset`);
    const size = length * CTOR[dtype].BYTES_PER_ELEMENT;
    if (s.offset + size > blob.length) throw bad(`array "${name}" runs past the end of the blob`);
    // A copy into a buffer of its own: aligned, and apart from the blob (which may be a view into
    // a pooled Node buffer, whose slice() would not copy).
    const bytes = new Uint8Array(size);
    bytes.set(blob.subarray(s.offset, s.offset + size));
    return new CTOR[dtype](bytes.buffer) as Forest[N];
  };
  const f: Forest = {
    kind: h.kind,
    nFeatures,
    baseScore: h.baseScore,
    treeStart: read('treeStart', 'int32', trees + 1),
    feature: read('feature', 'int32', nodes),
    threshold: read('threshold', 'float64', nodes),
    left: read('left', 'int32', nodes),
    missingLeft: read('missingLeft', 'uint8', nodes),
    value: read('value', 'float64', nodes),
    gain: read('gain', 'float32', nodes),
    cover: read('cover', 'float32', nodes),
  };
  checkStructure(f);
  return f;
}

/** Trees laid out as the builder lays them: every child after its parent, inside its tree. */
export function checkStructure(f: Forest): void {
  const bad = (what: string) => new CorruptFileError(`trees: model ${what}`);
  const trees = f.treeStart.length - 1;
  if (f.treeStart[0] !== 0 || f.treeStart[trees] !== f.feature.length) throw bad('tree offsets do not cover the nodes');
  for (let t = 0; t < trees; t++) {
    const start = f.treeStart[t]!;
    const size = f.treeStart[t + 1]! - start;
    if (size < 1) throw bad(`tree ${t} has no node`);
    for (let i = 0; i < size; i++) {
      const node = start + i;
      const l = f.left[node]!;
      if (!Number.isFinite(f.value[node]!)) throw bad(`tree ${t} node ${i} has a non-finite value`);
      if (l === -1) continue;
      if (!(l > i && l + 1 < size)) throw bad(`tree ${t} node ${i} has children outside its tree`);
      const feature = f.feature[node]!;
      if (!(feature >= 0 && feature < f.nFeatures)) throw bad(`tree ${t} node ${i} splits on a feature outside 0..${f.nFeatures - 1}`);
      if (Number.isNaN(f.threshold[node]!)) throw bad(`tree ${t} node ${i} has a NaN threshold`);
    }
  }
}

/** One file: "CPTREES1", the header's length (uint32 LE), the header, padding to 8 bytes, the blob. */
export function packForest(f: Forest, training?: Record<string, unknown>): Uint8Array {
  const { header, blob } = encodeForest(f, training);
  const json = new TextEncoder().encode(JSON.stringify(header));
  const at = Math.ceil((12 + json.length) / 8) * 8;
  const out = new Uint8Array(at + blob.length);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, 12);
  out.set(blob, at);
  return out;
}

export function unpackForest(bytes: Uint8Array, source: string): { forest: Forest; header: ForestHeader } {
  const bad = (what: string) => new CorruptFileError(`trees: ${source} ${what}`);
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) throw bad('is not a packed tree model');
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  if (12 + length > bytes.length) throw bad('is truncated');
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + length)));
  } catch (cause) {
    throw new CorruptFileError(`trees: ${source} has a header that is not JSON`, { cause });
  }
  const at = Math.ceil((12 + length) / 8) * 8;
  return { forest: decodeForest(header, bytes.subarray(at)), header: header as ForestHeader };
}
