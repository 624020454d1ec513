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

export function unsignedLeb(bytes: number[], value: number): void {
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (value !== 0);
}

export function signedLeb(bytes: number[], value: bigint | number): void {
  let rest = BigInt(value);
  for (;;) {
    const byte = Number(rest & 0x7fn);
    rest >>= 7n;
    const done = (rest === 0n && (byte & 0x40) === 0) || (rest === -1n && (byte & 0x40) !== 0);
    bytes.push(done ? byte : byte | 0x80);
    if (done) return;
  }
}

function name(bytes: number[], text: string): void {
  const encoded = new TextEncoder().encode(text);
  unsignedLeb(bytes, encoded.length);
  bytes.push(...encoded);
}

/** Natural alignment (log2 of the access size in bytes), the usual `align` of a memarg. */
const naturalAlign = { 1: 0, 2: 1, 4: 2, 8: 3, 16: 4 } as const;

export class FunctionBuilder {
  readonly bytes: number[] = [];
  readonly params: Local[];
  private readonly extraLocals: Local[] = [];
  private readonly labels: Label[] = [];

  constructor(readonly paramTypes: readonly ValueType[], readonly resultTypes: readonly ValueType[]) {
    this.params = paramTypes.map((type, index) => ({ index, type }));
  }

  /** Declares a new local (after the parameters). */
  addLocal(type: ValueType): Local {
    const local = { index: this.params.length + this.extraLocals.length, type };
    this.extraLocals.push(local);
    return local;
  }

  op(...codes: number[]): this { this.bytes.push(...codes); return this; }
  private prefixed(prefix: number, code: number, ...immediates: number[]): this {
    this.bytes.push(prefix);
    unsignedLeb(this.bytes, code);
    this.bytes.push(...immediates);
    return this;
  }
  private memory(code: number, offset: number, align: number, prefix?: number): this {
    if (prefix === undefined) this.bytes.push(code); else { this.bytes.push(prefix); unsignedLeb(this.bytes, code); }
    unsignedLeb(this.bytes, align);
    unsignedLeb(this.bytes, offset);
    return this;
  }
  private simd = (code: number) => () => this.prefixed(0xfd, code);
  private load = (code: number, size: 1 | 2 | 4 | 8 | 16, prefix?: number) =>
    (offset = 0, align: number = naturalAlign[size]) => this.memory(code, offset, align, prefix);

  // Control flow. Each structured instruction takes its body as a callback with its label.
  private structured(code: number, kind: Label['kind'], body: (label: Label) => void, result?: ValueType): this {
    const label: Label = { kind };
    this.bytes.push(code, result === undefined ? 0x40 : valueTypes[result]);
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
  br(label: Label): this { this.bytes.push(0x0c); unsignedLeb(this.bytes, this.depth(label)); return this; }
  brIf(label: Label): this { this.bytes.push(0x0d); unsignedLeb(this.bytes, this.depth(label)); return this; }
  return(): this { return this.op(0x0f); }
  unreachable(): this { return this.op(0x00); }
  drop(): this { return this.op(0x1a); }
  select(): this { return this.op(0x1b); }
  call(functionIndex: number): this { this.bytes.push(0x10); unsignedLeb(this.bytes, functionIndex); return this; }

  readonly local = {
    get: (local: Local) => { this.bytes.push(0x20); unsignedLeb(this.bytes, local.index); return this; },
    set: (local: Local) => { this.bytes.push(0x21); unsignedLeb(this.bytes, local.index); return this; },
    tee: (local: Local) => { this.bytes.push(0x22); unsignedLeb(this.bytes, local.index); return this; },
  };
  readonly global = {
    get: (index: number) => { this.bytes.push(0x23); unsignedLeb(this.bytes, index); return this; },
    set: (index: number) => { this.bytes.push(0x24); unsignedLeb(this.bytes, index); return this; },
  };

  readonly i32 = {
    const: (value: number) => { this.bytes.push(0x41); signedLeb(this.bytes, value | 0); return this; },
    load: this.load(0x28, 4), store: this.load(0x36, 4),
    load8U: this.load(0x2d, 1), store8: this.load(0x3a, 1),
    eqz: () => this.op(0x45), eq: () => this.op(0x46), ne: () => this.op(0x47),
    ltS: () => this.op(0x48), ltU: () => this.op(0x49), gtS: () => this.op(0x4a), gtU: () => this.op(0x4b),
    leS: () => this.op(0x4c), leU: () => this.op(0x4d), geS: () => this.op(0x4e), geU: () => this.op(0x4f),
    add: () => this.op(0x6a), sub: () => this.op(0x6b), mul: () => this.op(0x6c),
    divS: () => this.op(0x6d), divU: () => this.op(0x6e), remS: () => this.op(0x6f), remU: () => this.op(0x70),
    and: () => this.op(0x71), or: () => this.op(0x72), xor: () => this.op(0x73),
    shl: () => this.op(0x74), shrS: () => this.op(0x75), shrU: () => this.op(0x76),
    wrapI64: () => this.op(0xa7), truncF32S: () => this.op(0xa8), reinterpretF32: () => this.op(0xbc),
  };
  readonly i64 = {
    const: (value: bigint | number) => { this.bytes.push(0x42); signedLeb(this.bytes, value); return this; },
    load: this.load(0x29, 8), store: this.load(0x37, 8),
    eqz: () => this.op(0x50), eq: () => this.op(0x51), ne: () => this.op(0x52),
    ltS: () => this.op(0x53), ltU: () => this.op(0x54), gtS: () => this.op(0x55), gtU: () => this.op(0x56),
    add: () => this.op(0x7c), sub: () => this.op(0x7d), mul: () => this.op(0x7e),
    divS: () => this.op(0x7f), divU: () => this.op(0x80), remS: () => this.op(0x81), remU: () => this.op(0x82),
    and: () => this.op(0x83), or: () => this.op(0x84), xor: () => this.op(0x85),
    shl: () => this.op(0x86), shrS: () => this.op(0x87), shrU: () => this.op(0x88),
    extendI32S: () => this.op(0xac), extendI32U: () => this.op(0xad),
  };
  readonly f32 = {
    const: (value: number) => {
      const bits = new Uint8Array(new Float32Array([value]).buffer);
      this.bytes.push(0x43, ...bits);
      return this;
    },
    load: this.load(0x2a, 4), store: this.load(0x38, 4),
    eq: () => this.op(0x5b), ne: () => this.op(0x5c), lt: () => this.op(0x5d),
    gt: () => this.op(0x5e), le: () => this.op(0x5f), ge: () => this.op(0x60),
    abs: () => this.op(0x8b), neg: () => this.op(0x8c), sqrt: () => this.op(0x91),
    add: () => this.op(0x92), sub: () => this.op(0x93), mul: () => this.op(0x94), div: () => this.op(0x95),
    min: () => this.op(0x96), max: () => this.op(0x97),
    convertI32S: () => this.op(0xb2), reinterpretI32: () => this.op(0xbe),
  };
  readonly v128 = {
    load: this.load(0x00, 16, 0xfd), store: this.load(0x0b, 16, 0xfd),
    load32Splat: this.load(0x09, 4, 0xfd), load32Zero: this.load(0x5c, 4, 0xfd), load64Zero: this.load(0x5d, 8, 0xfd),
    const: (lanes: ArrayLike<number>) => {
      const bytes = new Uint8Array(new Float32Array(lanes).buffer);
      if (bytes.length !== 16) throw new Error('wasm-encode: v128.const takes four f32 lanes');
      return this.prefixed(0xfd, 0x0c, ...bytes);
    },
    not: this.simd(0x4d), and: this.simd(0x4e), andnot: this.simd(0x4f), or: this.simd(0x50), xor: this.simd(0x51),
    bitselect: this.simd(0x52),
    /** Stores one 32-bit lane: memarg, then the lane index. */
    store32Lane: (lane: number, offset = 0, align = 2) => { this.memory(0x5a, offset, align, 0xfd); this.bytes.push(lane); return this; },
  };
  readonly i8x16 = {
    shuffle: (lanes: readonly number[]) => this.prefixed(0xfd, 0x0d, ...lanes),
  };
  readonly i32x4 = {
    splat: this.simd(0x11),
    extractLane: (lane: number) => this.prefixed(0xfd, 0x1b, lane),
    replaceLane: (lane: number) => this.prefixed(0xfd, 0x1c, lane),
    eq: this.simd(0x37), ltS: this.simd(0x39), gtS: this.simd(0x3b),
    shl: this.simd(0xab), shrS: this.simd(0xac), shrU: this.simd(0xad),
    add: this.simd(0xae), sub: this.simd(0xb1), mul: this.simd(0xb5),
    minS: this.simd(0xb6), maxS: this.simd(0xb8),
    truncSatF32x4S: this.simd(0xf8),
  };
  readonly f32x4 = {
    splat: this.simd(0x13),
    extractLane: (lane: number) => this.prefixed(0xfd, 0x1f, lane),
    replaceLane: (lane: number) => this.prefixed(0xfd, 0x20, lane),
    eq: this.simd(0x41), lt: this.simd(0x43), gt: this.simd(0x44),
    abs: this.simd(0xe0), neg: this.simd(0xe1), sqrt: this.simd(0xe3),
    add: this.simd(0xe4), sub: this.simd(0xe5), mul: this.simd(0xe6), div: this.simd(0xe7),
    min: this.simd(0xe8), max: this.simd(0xe9),
    convertI32x4S: this.simd(0xfa),
    /** a·b + c, fused or not at the engine's choice (relaxed SIMD). */
    relaxedMadd: this.simd(0x105),
    relaxedNmadd: this.simd(0x106),
  };

  /** The function body as it appears in the code section (size-prefixed). */
  encodeBody(): number[] {
    if (this.labels.length !== 0) throw new Error('wasm-encode: a block is still open');
    const body: number[] = [];
    const groups: [ValueType, number][] = [];
    for (const { type } of this.extraLocals) {
      const last = groups[groups.length - 1];
      if (last !== undefined && last[0] === type) last[1]++;
      else groups.push([type, 1]);
    }
    unsignedLeb(body, groups.length);
    for (const [type, count] of groups) { unsignedLeb(body, count); body.push(valueTypes[type]); }
    body.push(...this.bytes, 0x0b);
    const sized: number[] = [];
    unsignedLeb(sized, body.length);
    return sized.concat(body);
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

  encode(): Uint8Array {
    const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    const section = (id: number, content: number[]) => {
      out.push(id);
      unsignedLeb(out, content.length);
      for (const byte of content) out.push(byte);
    };
    const vector = <T>(items: readonly T[], write: (bytes: number[], item: T) => void): number[] => {
      const bytes: number[] = [];
      unsignedLeb(bytes, items.length);
      for (const item of items) write(bytes, item);
      return bytes;
    };

    // Function types, one per distinct signature.
    const signatures: string[] = [];
    const typeOf = this.functions.map(({ builder }) => {
      const key = `${builder.paramTypes.join(',')}->${builder.resultTypes.join(',')}`;
      if (!signatures.includes(key)) signatures.push(key);
      return signatures.indexOf(key);
    });
    section(1, vector(signatures, (bytes, key) => {
      const [params, results] = key.split('->').map((list) => (list === '' ? [] : list.split(',')) as ValueType[]);
      bytes.push(0x60);
      for (const list of [params!, results!]) {
        unsignedLeb(bytes, list.length);
        for (const type of list) bytes.push(valueTypes[type]);
      }
    }));

    const imports: ((bytes: number[]) => void)[] = [];
    if (this.memoryImport !== undefined) {
      const { module, name: field, initial, maximum, shared } = this.memoryImport;
      imports.push((bytes) => {
        name(bytes, module); name(bytes, field);
        bytes.push(0x02, shared ? 0x03 : 0x01);
        unsignedLeb(bytes, initial); unsignedLeb(bytes, maximum);
      });
    }
    for (const { module, name: field, type, mutable } of this.globalImports) {
      imports.push((bytes) => { name(bytes, module); name(bytes, field); bytes.push(0x03, valueTypes[type], mutable ? 1 : 0); });
    }
    if (imports.length > 0) section(2, vector(imports, (bytes, write) => write(bytes)));

    section(3, vector(typeOf, (bytes, index) => unsignedLeb(bytes, index)));
    const exported = this.functions.flatMap(({ exportName }, index) => (exportName === undefined ? [] : [[exportName, index] as const]));
    section(7, vector(exported, (bytes, [field, index]) => { name(bytes, field); bytes.push(0x00); unsignedLeb(bytes, index); }));
    section(10, vector(this.functions, (bytes, { builder }) => { for (const byte of builder.encodeBody()) bytes.push(byte); }));
    return new Uint8Array(out);
  }
}
