// A small WebAssembly binary encoder, so kernels can be generated and compiled in
// microseconds with no toolchain: a module has types, imports (a shared memory, i32/f32
// globals), functions with locals, and exports. Instructions are written through a
// `FunctionBuilder` whose methods read like the text format: `f.i32.add()`,
// `f.local.get(x)`, `f.f32x4.relaxedMadd()`, `f.loop((top) => { ...; f.brIf(top) })`.
// Blocks take labels as objects, so branch depths are computed rather than counted.
// Left out: tables, element and data segments, start functions, multi-value blocks,
// the atomics (0xFE) prefix, and most conversion/saturating opcodes (add them as needed).

export const valueTypes = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b } as const;
export type ValueType = keyof typeof valueTypes;

/** A local variable or parameter of the function being built. */
export interface Local { readonly index: number; readonly type: ValueType }
/** A branch target: a `block` (br jumps past its end) or a `loop` (br jumps to its top). */
export interface Label { readonly kind: 'block' | 'loop' | 'if' }

/** A growable byte list: a plain array of small integers, which V8 appends to fastest. */
export class ByteWriter {
  readonly bytes: number[] = [];
  get length(): number { return this.bytes.length; }
  push(byte: number): void { this.bytes.push(byte); }
  append(bytes: ArrayLike<number>): void {
    for (let i = 0; i < bytes.length; i++) this.bytes.push(bytes[i]!);
  }
}

export function unsignedLeb(bytes: ByteWriter, value: number): void {
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (value !== 0);
}

export function signedLeb(bytes: ByteWriter, value: bigint | number): void {
  if (typeof value === 'number' && value === (value | 0)) {
    // 32-bit values without BigInt: this runs for every i32.const.
    for (;;) {
      const byte = value & 0x7f;
      value >>= 7;
      const done = (value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0);
      bytes.push(done ? byte : byte | 0x80);
      if (done) return;
    }
  }
  let rest = BigInt(value);
  for (;;) {
    const byte = Number(rest & 0x7fn);
    rest >>= 7n;
    const done = (rest === 0n && (byte & 0x40) === 0) || (rest === -1n && (byte & 0x40) !== 0);
    bytes.push(done ? byte : byte | 0x80);
    if (done) return;
  }
}

const textEncoder = new TextEncoder();
function name(bytes: ByteWriter, text: string): void {
  const encoded = textEncoder.encode(text);
  unsignedLeb(bytes, encoded.length);
  bytes.append(encoded);
}

const zeroVector: readonly number[] = Array<number>(16).fill(0);
const floatBits = new Float32Array(1);
const floatByteView = new Uint8Array(floatBits.buffer);

// Opcode tables. Instructions without immediates are one entry each; memory instructions
// give [opcode, access size in bytes] (their default alignment is the natural one).
const i32Codes = {
  eqz: 0x45, eq: 0x46, ne: 0x47, ltS: 0x48, ltU: 0x49, gtS: 0x4a, gtU: 0x4b, leS: 0x4c, leU: 0x4d, geS: 0x4e, geU: 0x4f,
  add: 0x6a, sub: 0x6b, mul: 0x6c, divS: 0x6d, divU: 0x6e, remS: 0x6f, remU: 0x70,
  and: 0x71, or: 0x72, xor: 0x73, shl: 0x74, shrS: 0x75, shrU: 0x76,
  wrapI64: 0xa7, truncF32S: 0xa8, reinterpretF32: 0xbc,
} as const;
const i64Codes = {
  eqz: 0x50, eq: 0x51, ne: 0x52, ltS: 0x53, ltU: 0x54, gtS: 0x55, gtU: 0x56,
  add: 0x7c, sub: 0x7d, mul: 0x7e, divS: 0x7f, divU: 0x80, remS: 0x81, remU: 0x82,
  and: 0x83, or: 0x84, xor: 0x85, shl: 0x86, shrS: 0x87, shrU: 0x88, extendI32S: 0xac, extendI32U: 0xad,
} as const;
const f32Codes = {
  eq: 0x5b, ne: 0x5c, lt: 0x5d, gt: 0x5e, le: 0x5f, ge: 0x60, abs: 0x8b, neg: 0x8c, sqrt: 0x91,
  add: 0x92, sub: 0x93, mul: 0x94, div: 0x95, min: 0x96, max: 0x97, convertI32S: 0xb2, demoteF64: 0xb6, reinterpretI32: 0xbe,
} as const;
const f64Codes = { add: 0xa0, sub: 0xa1, mul: 0xa2, div: 0xa3, promoteF32: 0xbb } as const;
// SIMD opcodes follow the 0xFD prefix (LEB-encoded).
const v128Codes = { not: 0x4d, and: 0x4e, andnot: 0x4f, or: 0x50, xor: 0x51, bitselect: 0x52 } as const;
const i16x8Codes = { narrowI32x4U: 0x86, extendLowI8x16U: 0x89 } as const;
const i8x16Codes = { narrowI16x8U: 0x66 } as const;
const i32x4Codes = {
  extendLowI16x8U: 0xa9, splat: 0x11, eq: 0x37, ne: 0x38, ltS: 0x39, gtS: 0x3b, leS: 0x3d, geS: 0x3f, shl: 0xab, shrS: 0xac, shrU: 0xad,
  add: 0xae, sub: 0xb1, mul: 0xb5, minS: 0xb6, maxS: 0xb8, truncSatF32x4S: 0xf8,
} as const;
/** The unsigned 64-bit products of lanes 0–1 (low) or 2–3 (high) of two i32x4. */
const i64x2Codes = { extmulLowI32x4U: 0xde, extmulHighI32x4U: 0xdf } as const;
const f32x4Codes = {
  splat: 0x13, eq: 0x41, ne: 0x42, lt: 0x43, gt: 0x44, le: 0x45, ge: 0x46, demoteF64x2Zero: 0x5e,
  ceil: 0x67, floor: 0x68, trunc: 0x69, nearest: 0x6a, abs: 0xe0, neg: 0xe1, sqrt: 0xe3,
  add: 0xe4, sub: 0xe5, mul: 0xe6, div: 0xe7, min: 0xe8, max: 0xe9,
  /** b < a ? b : a and a < b ? b : a: one x86 instruction each (min/max order NaN and ±0 as IEEE does, in several). */
  pmin: 0xea, pmax: 0xeb, convertI32x4S: 0xfa,
  /** a·b + c, fused or not at the engine's choice (relaxed SIMD). */
  relaxedMadd: 0x105, relaxedNmadd: 0x106,
} as const;
const f64x2Codes = { splat: 0x14, promoteLowF32x4: 0x5f, add: 0xf0, sub: 0xf1, mul: 0xf2, div: 0xf3 } as const;
const i32Memory = { load: [0x28, 4], store: [0x36, 4], load8U: [0x2d, 1], store8: [0x3a, 1] } as const;
const i64Memory = { load: [0x29, 8], store: [0x37, 8] } as const;
const f32Memory = { load: [0x2a, 4], store: [0x38, 4] } as const;
const v128Memory = { load: [0x00, 16], store: [0x0b, 16], load32Splat: [0x09, 4], load32Zero: [0x5c, 4], load64Zero: [0x5d, 8] } as const;

type Nullary<Codes> = { readonly [Name in keyof Codes]: () => FunctionBuilder };
/** (offset, align) of a memory instruction; align is log2 of bytes, natural by default. */
type MemoryOps<Table> = { readonly [Name in keyof Table]: (offset?: number, align?: number) => FunctionBuilder };

/** One instruction family (`f.i32`, `f.f32x4`, …): a view on its builder, methods on the prototype. */
class Family {
  constructor(protected readonly f: FunctionBuilder) {}
}
function install(family: { prototype: object }, codes: Record<string, number>, memory: Record<string, readonly [number, number]>, simd: boolean): void {
  const target = family.prototype as Record<string, unknown>;
  for (const [name, code] of Object.entries(codes)) {
    target[name] = simd ? function (this: Family) { return (this as unknown as { f: FunctionBuilder }).f.simd(code); }
      : function (this: Family) { return (this as unknown as { f: FunctionBuilder }).f.op(code); };
  }
  for (const [name, [code, size]] of Object.entries(memory)) {
    const natural = Math.log2(size);
    target[name] = function (this: Family, offset = 0, align = natural) { return (this as unknown as { f: FunctionBuilder }).f.memoryOp(code, offset, align, simd); };
  }
}

class I32 extends Family {
  const(value: number): FunctionBuilder { this.f.bytes.push(0x41); signedLeb(this.f.bytes, value | 0); return this.f; }
}
interface I32 extends Nullary<typeof i32Codes>, MemoryOps<typeof i32Memory> {}
class I64 extends Family {
  const(value: bigint | number): FunctionBuilder { this.f.bytes.push(0x42); signedLeb(this.f.bytes, value); return this.f; }
}
interface I64 extends Nullary<typeof i64Codes>, MemoryOps<typeof i64Memory> {}
class F32 extends Family {
  const(value: number): FunctionBuilder {
    floatBits[0] = value;
    this.f.bytes.push(0x43);
    this.f.bytes.append(floatByteView);
    return this.f;
  }
}
interface F32 extends Nullary<typeof f32Codes>, MemoryOps<typeof f32Memory> {}
class F64 extends Family {
  const(value: number): FunctionBuilder {
    this.f.bytes.push(0x44);
    this.f.bytes.append(new Uint8Array(new Float64Array([value]).buffer));
    return this.f;
  }
}
interface F64 extends Nullary<typeof f64Codes> {}
class V128 extends Family {
  /** The all-zero vector. */
  zero(): FunctionBuilder { return this.f.simd(0x0c, zeroVector); }
  /** A constant of four f32 lanes. */
  const(lanes: ArrayLike<number>): FunctionBuilder {
    const bytes = new Uint8Array(new Float32Array(lanes).buffer);
    if (bytes.length !== 16) throw new Error('wasm-encode: v128.const takes four f32 lanes');
    return this.f.simd(0x0c, bytes);
  }
  /** A constant of four i32 lanes (their low 32 bits). */
  constI32(lanes: ArrayLike<number>): FunctionBuilder {
    const bytes = new Uint8Array(new Uint32Array(Array.from(lanes, (lane) => lane >>> 0)).buffer);
    if (bytes.length !== 16) throw new Error('wasm-encode: v128.constI32 takes four i32 lanes');
    return this.f.simd(0x0c, bytes);
  }
  /** Stores one 32-bit lane: memarg, then the lane index. */
  store32Lane(lane: number, offset = 0, align = 2): FunctionBuilder { this.f.memoryOp(0x5a, offset, align, true); this.f.bytes.push(lane); return this.f; }
  /** Stores one 8-bit lane. */
  store8Lane(lane: number, offset = 0): FunctionBuilder { this.f.memoryOp(0x58, offset, 0, true); this.f.bytes.push(lane); return this.f; }
}
interface V128 extends Nullary<typeof v128Codes>, MemoryOps<typeof v128Memory> {}
class I8x16 extends Family {
  shuffle(lanes: readonly number[]): FunctionBuilder { return this.f.simd(0x0d, lanes); }
}
interface I8x16 extends Nullary<typeof i8x16Codes> {}
class I16x8 extends Family {}
interface I16x8 extends Nullary<typeof i16x8Codes> {}
class I32x4 extends Family {
  extractLane(lane: number): FunctionBuilder { return this.f.simd(0x1b, [lane]); }
  replaceLane(lane: number): FunctionBuilder { return this.f.simd(0x1c, [lane]); }
}
interface I32x4 extends Nullary<typeof i32x4Codes> {}
class I64x2 extends Family {}
interface I64x2 extends Nullary<typeof i64x2Codes> {}
class F32x4 extends Family {
  extractLane(lane: number): FunctionBuilder { return this.f.simd(0x1f, [lane]); }
  replaceLane(lane: number): FunctionBuilder { return this.f.simd(0x20, [lane]); }
}
interface F32x4 extends Nullary<typeof f32x4Codes> {}
class F64x2 extends Family {
  extractLane(lane: number): FunctionBuilder { return this.f.simd(0x21, [lane]); }
}
interface F64x2 extends Nullary<typeof f64x2Codes> {}
install(I32, i32Codes, i32Memory, false);
install(I64, i64Codes, i64Memory, false);
install(F32, f32Codes, f32Memory, false);
install(V128, v128Codes, v128Memory, true);
install(I32x4, i32x4Codes, {}, true);
install(I64x2, i64x2Codes, {}, true);
install(I16x8, i16x8Codes, {}, true);
install(I8x16, i8x16Codes, {}, true);
install(F32x4, f32x4Codes, {}, true);
install(F64, f64Codes, {}, false);
install(F64x2, f64x2Codes, {}, true);

class Locals extends Family {
  get(local: Local): FunctionBuilder { return this.f.indexed(0x20, local.index); }
  set(local: Local): FunctionBuilder { return this.f.indexed(0x21, local.index); }
  tee(local: Local): FunctionBuilder { return this.f.indexed(0x22, local.index); }
}
class Globals extends Family {
  get(index: number): FunctionBuilder { return this.f.indexed(0x23, index); }
  set(index: number): FunctionBuilder { return this.f.indexed(0x24, index); }
}

export class FunctionBuilder {
  readonly bytes = new ByteWriter();
  readonly params: Local[];
  private readonly extraLocals: Local[] = [];
  private readonly labels: Label[] = [];
  readonly local = new Locals(this);
  readonly global = new Globals(this);
  readonly i32 = new I32(this);
  readonly i64 = new I64(this);
  readonly f32 = new F32(this);
  readonly v128 = new V128(this);
  readonly i8x16 = new I8x16(this);
  readonly i16x8 = new I16x8(this);
  readonly i32x4 = new I32x4(this);
  readonly i64x2 = new I64x2(this);
  readonly f32x4 = new F32x4(this);
  readonly f64 = new F64(this);
  readonly f64x2 = new F64x2(this);

  constructor(readonly paramTypes: readonly ValueType[], readonly resultTypes: readonly ValueType[]) {
    this.params = paramTypes.map((type, index) => ({ index, type }));
  }

  /** Declares a new local (after the parameters). */
  addLocal(type: ValueType): Local {
    const local = { index: this.params.length + this.extraLocals.length, type };
    this.extraLocals.push(local);
    return local;
  }

  /** One single-byte instruction. */
  op(code: number): this { this.bytes.push(code); return this; }
  /** An instruction with one LEB128 index immediate. */
  indexed(code: number, index: number): this { this.bytes.push(code); unsignedLeb(this.bytes, index); return this; }
  /** A 0xFD-prefixed instruction with its raw immediate bytes. */
  simd(code: number, immediates?: ArrayLike<number>): this {
    this.bytes.push(0xfd);
    unsignedLeb(this.bytes, code);
    if (immediates !== undefined) this.bytes.append(immediates);
    return this;
  }
  /** A load or store: opcode (0xFD-prefixed for SIMD), then align and offset. */
  memoryOp(code: number, offset: number, align: number, simd: boolean): this {
    if (simd) { this.bytes.push(0xfd); unsignedLeb(this.bytes, code); } else this.bytes.push(code);
    unsignedLeb(this.bytes, align);
    unsignedLeb(this.bytes, offset);
    return this;
  }

  // Control flow. Each structured instruction takes its body as a callback with its label.
  private structured(code: number, kind: Label['kind'], body: (label: Label) => void, result?: ValueType): this {
    const label: Label = { kind };
    this.bytes.push(code);
    this.bytes.push(result === undefined ? 0x40 : valueTypes[result]);
    this.labels.push(label);
    body(label);
    this.labels.pop();
    this.bytes.push(0x0b);
    return this;
  }
  block(body: (label: Label) => void, result?: ValueType): this { return this.structured(0x02, 'block', body, result); }
  loop(body: (label: Label) => void, result?: ValueType): this { return this.structured(0x03, 'loop', body, result); }
  /** `if` (condition on the stack) with an optional `else` body. */
  if(then: (label: Label) => void, otherwise?: (label: Label) => void, result?: ValueType): this {
    return this.structured(0x04, 'if', (label) => {
      then(label);
      if (otherwise !== undefined) { this.bytes.push(0x05); otherwise(label); }
    }, result);
  }
  private depth(label: Label): number {
    const index = this.labels.lastIndexOf(label);
    if (index < 0) throw new Error('wasm-encode: a branch targets a label that is not open here');
    return this.labels.length - 1 - index;
  }
  br(label: Label): this { return this.indexed(0x0c, this.depth(label)); }
  brIf(label: Label): this { return this.indexed(0x0d, this.depth(label)); }
  return(): this { return this.op(0x0f); }
  unreachable(): this { return this.op(0x00); }
  drop(): this { return this.op(0x1a); }
  select(): this { return this.op(0x1b); }
  call(functionIndex: number): this { return this.indexed(0x10, functionIndex); }

  /** `for (counter = 0; counter < limit; counter += step) body()`, comparing unsigned. */
  forUp(counter: Local, limit: Local, step: number, body: () => void): this {
    this.i32.const(0).local.set(counter);
    return this.block((exit) => {
      this.local.get(counter).local.get(limit).i32.geU().brIf(exit);
      this.loop((top) => {
        body();
        this.local.get(counter).i32.const(step).i32.add().local.tee(counter).local.get(limit).i32.ltU().brIf(top);
      });
    });
  }

  /** Writes the function body as it appears in the code section (size-prefixed). */
  encodeBody(out: ByteWriter): void {
    if (this.labels.length !== 0) throw new Error('wasm-encode: a block is still open');
    const locals = new ByteWriter();
    const groups: [ValueType, number][] = [];
    for (const { type } of this.extraLocals) {
      const last = groups[groups.length - 1];
      if (last !== undefined && last[0] === type) last[1]++;
      else groups.push([type, 1]);
    }
    unsignedLeb(locals, groups.length);
    for (const [type, count] of groups) { unsignedLeb(locals, count); locals.push(valueTypes[type]); }
    unsignedLeb(out, locals.length + this.bytes.length + 1);
    out.append(locals.bytes);
    out.append(this.bytes.bytes);
    out.push(0x0b);
  }
}

interface MemoryImport { module: string; name: string; initial: number; maximum: number; shared: boolean }
interface GlobalImport { module: string; name: string; type: ValueType; mutable: boolean }

export class ModuleBuilder {
  private memoryImport: MemoryImport | undefined;
  private readonly globalImports: GlobalImport[] = [];
  private readonly functions: { builder: FunctionBuilder; exportName: string | undefined }[] = [];

  /** Imports the (single) memory; sizes are in 64 KiB pages. */
  importMemory(module: string, name: string, limits: { initial: number; maximum: number; shared?: boolean }): this {
    this.memoryImport = { module, name, initial: limits.initial, maximum: limits.maximum, shared: limits.shared ?? true };
    return this;
  }

  /** Imports a global; returns its index for `global.get`. */
  importGlobal(module: string, name: string, type: ValueType, mutable = false): number {
    this.globalImports.push({ module, name, type, mutable });
    return this.globalImports.length - 1;
  }

  /** Adds a function, exported under `exportName` when given; returns its function index. */
  addFunction(exportName: string | undefined, params: readonly ValueType[], results: readonly ValueType[],
    body: (f: FunctionBuilder, ...params: Local[]) => void): number {
    const builder = new FunctionBuilder(params, results);
    body(builder, ...builder.params);
    this.functions.push({ builder, exportName });
    return this.functions.length - 1;
  }

  /** The module's bytes, in a plain ArrayBuffer (the DOM library's BufferSource, which WebAssembly.compile takes, refuses a view of a SharedArrayBuffer). */
  encode(): Uint8Array<ArrayBuffer> {
    const out = new ByteWriter();
    out.append([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    /** A section: its id, its size, then `count` items written by `write`. */
    const section = <T>(id: number, items: readonly T[], write: (bytes: ByteWriter, item: T) => void) => {
      const content = new ByteWriter();
      unsignedLeb(content, items.length);
      for (const item of items) write(content, item);
      out.push(id);
      unsignedLeb(out, content.length);
      out.append(content.bytes);
    };
    const types = (bytes: ByteWriter, list: readonly ValueType[]) => {
      unsignedLeb(bytes, list.length);
      for (const type of list) bytes.push(valueTypes[type]);
    };

    // Function types, one per distinct signature.
    const signatures: FunctionBuilder[] = [];
    const keys: string[] = [];
    const typeOf = this.functions.map(({ builder }) => {
      const key = `${builder.paramTypes.join(',')}->${builder.resultTypes.join(',')}`;
      if (!keys.includes(key)) { keys.push(key); signatures.push(builder); }
      return keys.indexOf(key);
    });
    section(1, signatures, (bytes, { paramTypes, resultTypes }) => { bytes.push(0x60); types(bytes, paramTypes); types(bytes, resultTypes); });

    const imports: ((bytes: ByteWriter) => void)[] = [];
    if (this.memoryImport !== undefined) {
      const { module, name: field, initial, maximum, shared } = this.memoryImport;
      imports.push((bytes) => {
        name(bytes, module); name(bytes, field);
        bytes.push(0x02); bytes.push(shared ? 0x03 : 0x01);
        unsignedLeb(bytes, initial); unsignedLeb(bytes, maximum);
      });
    }
    for (const { module, name: field, type, mutable } of this.globalImports) {
      imports.push((bytes) => { name(bytes, module); name(bytes, field); bytes.append([0x03, valueTypes[type], mutable ? 1 : 0]); });
    }
    if (imports.length > 0) section(2, imports, (bytes, write) => write(bytes));

    section(3, typeOf, (bytes, index) => unsignedLeb(bytes, index));
    const exported = this.functions.flatMap(({ exportName }, index) => (exportName === undefined ? [] : [[exportName, index] as const]));
    section(7, exported, (bytes, [field, index]) => { name(bytes, field); bytes.push(0x00); unsignedLeb(bytes, index); });
    section(10, this.functions, (bytes, { builder }) => builder.encodeBody(bytes));
    return new Uint8Array(out.bytes);
  }
}
