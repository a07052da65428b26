/**
 * Just enough of a WebAssembly binary encoder to emit the histogram kernels (hist-wasm.ts) at
 * run time: one imported memory, exported functions of i32 parameters, the opcodes they use.
 * Emitting the bytes here keeps the build a plain `tsc` (no wat2wasm, no checked-in binary) and
 * lets the unrolled kernels be generated from one description.
 */

/** Value types. */
export const I32 = 0x7f;
export const F64 = 0x7c;
export const V128 = 0x7b;

export type Bytes = number[];

export function uleb(value: number): Bytes {
  const out: Bytes = [];
  let v = value >>> 0;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

export function sleb(value: number): Bytes {
  const out: Bytes = [];
  let v = value | 0;
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const vec = (items: Bytes[]): Bytes => [...uleb(items.length), ...items.flat()];
const name = (s: string): Bytes => vec([...Buffer.from(s, 'utf8')].map((b) => [b]));
const section = (id: number, body: Bytes): Bytes => [id, ...uleb(body.length), ...body];

/** Instructions, as byte sequences (memory offsets and alignments are byte offset and log2 alignment hints). */
export const op = {
  localGet: (i: number): Bytes => [0x20, ...uleb(i)],
  localSet: (i: number): Bytes => [0x21, ...uleb(i)],
  localTee: (i: number): Bytes => [0x22, ...uleb(i)],
  i32Const: (v: number): Bytes => [0x41, ...sleb(v)],
  f64Const: (v: number): Bytes => {
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v);
    return [0x44, ...b];
  },
  i32Add: [0x6a] as Bytes,
  i32Mul: [0x6c] as Bytes,
  i32Shl: [0x74] as Bytes,
  i32LtU: [0x49] as Bytes,
  i32GeU: [0x4f] as Bytes,
  i32Load: (offset = 0): Bytes => [0x28, 2, ...uleb(offset)],
  i32Load8U: (offset = 0): Bytes => [0x2d, 0, ...uleb(offset)],
  f64Load: (offset = 0): Bytes => [0x2b, 3, ...uleb(offset)],
  f64Store: (offset = 0): Bytes => [0x39, 3, ...uleb(offset)],
  f64Add: [0xa0] as Bytes,
  v128Load: (align: number, offset = 0): Bytes => [0xfd, 0x00, align, ...uleb(offset)],
  v128Store: (align: number, offset = 0): Bytes => [0xfd, 0x0b, align, ...uleb(offset)],
  f64x2Add: [0xfd, ...uleb(240)],
  block: [0x02, 0x40] as Bytes,
  loop: [0x03, 0x40] as Bytes,
  end: [0x0b] as Bytes,
  brIf: (depth: number): Bytes => [0x0d, ...uleb(depth)],
};

export interface FunctionSpec {
  name: string;
  params: number[];
  /** Locals after the parameters, one type each. */
  locals: number[];
  body: Bytes[];
}

/** A module importing `env.memory` (between `minPages` and `maxPages` 64 KiB pages, shared or not) and exporting `functions`. */
export function encodeModule(functions: FunctionSpec[], memory: { minPages: number; maxPages: number; shared: boolean }): Uint8Array {
  const types = section(1, vec(functions.map((f) => [0x60, ...vec(f.params.map((t) => [t])), 0])));
  const limits = [memory.shared ? 0x03 : 0x01, ...uleb(memory.minPages), ...uleb(memory.maxPages)];
  const imports = section(2, vec([[...name('env'), ...name('memory'), 0x02, ...limits]]));
  const declarations = section(3, vec(functions.map((_, i) => uleb(i))));
  const exports = section(7, vec(functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)])));
  const code = section(
    10,
    vec(
      functions.map((f) => {
        const body = [...vec(f.locals.map((t) => [1, t])), ...f.body.flat(), ...op.end];
        return [...uleb(body.length), ...body];
      }),
    ),
  );
  return Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...types, ...imports, ...declarations, ...exports, ...code]);
}
