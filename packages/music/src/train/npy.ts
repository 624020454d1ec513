// The NPY format (numpy's `.npy`, the members of an `.npz`): a magic string, a version, a
// header that is a Python dict literal giving dtype, memory order and shape, then the raw
// little-endian data. We write version 1.0 byte for byte as numpy.save does — the header
// padded with spaces to a multiple of 64 bytes including the magic, version, length field
// and the trailing newline — and read versions 1.0, 2.0 and 3.0.
// Left out: big-endian data ('>f4': refused, not byte-swapped) and big-endian hosts (the
// typed arrays are copied as they are), structured and object dtypes, and dtypes NDArray has no storage for (uint8, int64, ...).
// Reading refuses, as a FileFormatError, anything damaged: a header that runs past the
// data, a shape that is not a tuple of sizes below 2^31 (at most 32 axes), data whose
// length disagrees with the shape.

import { NDArray, type DType } from '@theorbo/graph';
import { FileFormatError } from '../files/file-format-error.ts';

const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
const headerAlignment = 64;
const prefixBytes = 10; // magic, two version bytes, uint16 header length
const growthDigits = 21; // numpy's GROWTH_AXIS_MAX_DIGITS
const maxAxes = 32; // numpy's NPY_MAXDIMS
const maxAxisSize = 2 ** 31 - 1;

/** numpy's descr string for each dtype an NDArray can hold. */
const descrOf: Record<DType, string> = {
  float32: '<f4',
  float64: '<f8',
  int32: '<i4',
  uint32: '<u4',
  bool: '|b1',
};
const dtypeOfDescr = new Map(Object.entries(descrOf).map(([dtype, descr]) => [descr, dtype as DType]));
// A single byte has no byte order: numpy may write '|b1' or '<b1'/'=b1'-free forms; accept the other spellings.
dtypeOfDescr.set('<b1', 'bool');
dtypeOfDescr.set('b1', 'bool');

/** A Python tuple literal as numpy writes it: `()`, `(5,)`, `(2, 3)`. */
function shapeLiteral(shape: readonly number[]): string {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

/**
 * The header text of an array exactly as numpy.save (numpy ≥ 1.23) writes it for version
 * 1.0: the dict, then room for the first axis to grow to 21 digits (numpy leaves it so
 * that appending can rewrite the header in place), then spaces up to the next multiple
 * of 64 bytes counting the 10-byte prefix and the final newline. Like numpy, a header that
 * would end exactly on a boundary still gets a full 64 bytes of padding.
 */
export function npyHeader(dtype: DType, shape: readonly number[]): string {
  const dict = `{'descr': '${descrOf[dtype]}', 'fortran_order': False, 'shape': ${shapeLiteral(shape)}, }`;
  const growth = shape.length > 0 ? ' '.repeat(Math.max(0, growthDigits - String(shape[0]).length)) : '';
  const withNewline = dict.length + growth.length + 1;
  const padding = headerAlignment - ((prefixBytes + withNewline) % headerAlignment);
  const header = `${dict}${growth}${' '.repeat(padding)}\n`;
  if (header.length > 0xffff) throw new Error(`npy: the header for shape [${shape.join(', ')}] is longer than version 1.0 allows (${header.length} bytes)`);
  return header;
}

/** One array as the bytes of a `.npy` file (version 1.0, C order, little-endian). */
export function encodeNpy(array: NDArray): Uint8Array {
  const header = npyHeader(array.dtype, array.shape);
  const data = new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength);
  const out = new Uint8Array(magic.length + 4 + header.length + data.length);
  out.set(magic, 0);
  out[6] = 1; // major version
  out[7] = 0; // minor version
  out[8] = header.length & 0xff;
  out[9] = header.length >>> 8;
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(data, 10 + header.length);
  return out;
}

interface ParsedHeader {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
}

/** Reads the three keys numpy writes from the header's dict literal (any key order, either quote style). */
function parseHeader(text: string, fail: (problem: string) => never): ParsedHeader {
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(text)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    fail(`has an npy header ${JSON.stringify(text.trim().slice(0, 200))} that does not give 'descr', 'fortran_order' and 'shape'`);
  }
  const parts = shapeText!.split(',').map((part) => part.trim()).filter((part) => part !== '');
  if (parts.length > maxAxes) fail(`has an npy shape of ${parts.length} axes; at most ${maxAxes} are allowed`);
  const shape = parts.map((part) => {
    // Python 2 wrote long integers as 5L; only plain decimal digits are sizes.
    if (!/^\d{1,10}L?$/.test(part) || Number(part.replace(/L$/, '')) > maxAxisSize) fail(`has an npy shape (${shapeText}) holding ${part.slice(0, 30)}, not a size below 2^31`);
    return Number(part.replace(/L$/, ''));
  });
  return { descr: descr!, fortranOrder: fortran === 'True', shape };
}

/** The array in the bytes of a `.npy` file; `where` names the file (and member) in FileFormatErrors. */
export function decodeNpy(bytes: Uint8Array, where: string): NDArray {
  return parseNpy(bytes, (problem) => { throw new FileFormatError('decodeNpy', where, problem); });
}

/** decodeNpy with its failures passed to `fail` as the end of a sentence about the file. */
export function parseNpy(bytes: Uint8Array, fail: (problem: string) => never): NDArray {
  if (bytes.length < 12 || magic.some((byte, i) => bytes[i] !== byte)) {
    fail('is not an npy array (bad magic: it does not start with "\\x93NUMPY")');
  }
  const major = bytes[6]!;
  let headerStart: number;
  let headerLength: number;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (major === 1) {
    headerStart = 10;
    headerLength = view.getUint16(8, true);
  } else if (major === 2 || major === 3) {
    headerStart = 12;
    headerLength = view.getUint32(8, true);
  } else {
    return fail(`is npy format version ${major}.${bytes[7]}, which is not supported (versions 1.0, 2.0 and 3.0 are)`);
  }
  if (headerStart + headerLength > bytes.length) fail('has an npy header that runs past the end of the data (truncated file)');
  const header = parseHeader(new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, headerStart + headerLength)), fail);
  const dtype = dtypeOfDescr.get(header.descr)!;
  if (dtype === undefined) {
    fail(`has an unsupported dtype '${header.descr}' (supported: ${Object.values(descrOf).join(', ')}; convert with astype before saving)`);
  }
  const start = headerStart + headerLength;
  const count = header.shape.reduce((product, size) => product * size, 1);
  const bytesPerElement = dtype === 'float64' ? 8 : dtype === 'bool' ? 1 : 4;
  if (bytes.length - start !== count * bytesPerElement) {
    fail(`has shape (${header.shape.join(', ')}) of '${header.descr}', which needs ${count * bytesPerElement} data bytes, but holds ${bytes.length - start} (truncated or corrupt)`);
  }
  // A copy: the data may sit at an offset the typed array cannot be aligned to.
  const buffer = new Uint8Array(bytes.subarray(start)).buffer; // a copy even of a Buffer, whose slice is a view
  const data = dtype === 'float32' ? new Float32Array(buffer)
    : dtype === 'float64' ? new Float64Array(buffer)
      : dtype === 'int32' ? new Int32Array(buffer)
        : dtype === 'uint32' ? new Uint32Array(buffer)
          : new Uint8Array(buffer);
  return new NDArray(dtype, header.shape, header.fortranOrder && header.shape.length > 1 ? fromFortranOrder(data, header.shape) : data);
}

type NpyData = Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array;

/** Column-major data of `shape` (the first axis varies fastest) copied into row-major order. */
function fromFortranOrder<D extends NpyData>(data: D, shape: readonly number[]): D {
  const out = data.slice() as D;
  const index = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < data.length; i++) {
    // i walks the C-order positions; its Fortran offset is Σ index[a]·(product of the sizes before a).
    let offset = 0;
    let stride = 1;
    for (let a = 0; a < shape.length; a++) {
      offset += index[a]! * stride;
      stride *= shape[a]!;
    }
    out[i] = data[offset]!;
    for (let a = shape.length - 1; a >= 0; a--) {
      if (++index[a]! < shape[a]!) break;
      index[a] = 0;
    }
  }
  return out;
}
