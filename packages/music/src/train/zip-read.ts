// Reading a zip archive (the container of .npz) with the checks a damaged file needs:
// the central directory is found and bounded, every member's local header must agree
// with its central entry, stored members are taken as they are and deflated ones
// inflated to exactly their declared size (never more: a member cannot claim more than
// deflate's 1032:1 ratio, which bounds what inflating can produce), and each
// member's CRC-32 is checked. numpy.savez's ZIP64 fields are read. Every loop is bounded
// by the archive's length. Failures go to `fail` as the end of a sentence.
// Left out: encryption, multi-disk archives, methods other than stored (0) and deflate (8).

import { inflateSync } from 'fflate'; // not node:zlib: the browser build reads .npz files too

export type Fail = (problem: string, field?: string) => never;

// Invalid bytes become U+FFFD, as Buffer's toString('utf8') made them.
const utf8 = new TextDecoder('utf-8');

const signatures = { local: 0x04034b50, central: 0x02014b50, end: 0x06054b50, zip64End: 0x06064b50, zip64Locator: 0x07064b50 } as const;
const endRecordBytes = 22;
const maxCommentBytes = 0xffff;
const centralEntryBytes = 46;
const localHeaderBytes = 30;
/** Deflate cannot expand more than 1032-fold (258-byte matches coded in 2 bits); more is a lie. */
const maxDeflateRatio = 1032;

interface CentralEntry {
  name: string;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

/** The members of the zip in `bytes`, by name. */
export function readZip(bytes: Uint8Array, fail: Fail): Map<string, Uint8Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (at: number): number => view.getUint16(at, true);
  const u32 = (at: number): number => view.getUint32(at, true);
  const u64 = (at: number): number => u32(at) + u32(at + 4) * 2 ** 32;

  let end = -1;
  for (let at = bytes.length - endRecordBytes; at >= Math.max(0, bytes.length - endRecordBytes - maxCommentBytes); at--) {
    if (u32(at) === signatures.end) { end = at; break; }
  }
  if (end < 0) fail('is not a zip archive: it has no end-of-central-directory record, so it is truncated or not a zip');
  if (u16(end + 4) !== 0 || u16(end + 6) !== 0) fail('is a multi-disk zip archive, which is not supported');
  let entryCount = u16(end + 10);
  let directorySize = u32(end + 12);
  let directoryOffset = u32(end + 16);
  let directoryLimit = end;
  if (entryCount === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff) {
    const locator = end - 20;
    if (locator < 0 || u32(locator) !== signatures.zip64Locator) fail('has ZIP64 markers in its end record but no ZIP64 locator (damaged zip)');
    const record = u64(locator + 8);
    if (record + 56 > locator || u32(record) !== signatures.zip64End) fail(`has a ZIP64 locator pointing at byte ${record}, where no ZIP64 end record is (damaged zip)`);
    entryCount = u64(record + 32);
    directorySize = u64(record + 40);
    directoryOffset = u64(record + 48);
    directoryLimit = record;
  }
  if (directoryOffset + directorySize > directoryLimit) {
    fail(`has a central directory of ${directorySize} bytes at byte ${directoryOffset}, past the end of its data at byte ${directoryLimit} (truncated or damaged zip)`);
  }
  if (entryCount * centralEntryBytes > directorySize) fail(`claims ${entryCount} members in a central directory of ${directorySize} bytes (damaged zip)`);

  const members = new Map<string, Uint8Array>();
  let at = directoryOffset;
  const directoryEnd = directoryOffset + directorySize;
  for (let index = 0; index < entryCount; index++) {
    if (at + centralEntryBytes > directoryEnd || u32(at) !== signatures.central) fail(`has a damaged central directory: entry ${index} at byte ${at} is not a directory entry`);
    const nameLength = u16(at + 28);
    const extraLength = u16(at + 30);
    const next = at + centralEntryBytes + nameLength + extraLength + u16(at + 32);
    if (next > directoryEnd) fail(`has a damaged central directory: entry ${index} runs past its end`);
    const entry: CentralEntry = {
      name: utf8.decode(bytes.subarray(at + centralEntryBytes, at + centralEntryBytes + nameLength)),
      flags: u16(at + 8),
      method: u16(at + 10),
      crc: u32(at + 16),
      compressedSize: u32(at + 20),
      size: u32(at + 24),
      localOffset: u32(at + 42),
    };
    readZip64Extra(view, at + centralEntryBytes + nameLength, extraLength, entry, fail);
    if (members.has(entry.name)) fail(`holds the member '${entry.name}' twice (damaged or tampered zip)`, entry.name);
    members.set(entry.name, memberData(bytes, view, entry, directoryOffset, fail));
    at = next;
  }
  return members;
}

/** Replaces the 0xffffffff sizes and offset of a central entry by the 64-bit values of its ZIP64 extra field. */
function readZip64Extra(view: DataView, start: number, length: number, entry: CentralEntry, fail: Fail): void {
  const needs = (['size', 'compressedSize', 'localOffset'] as const).filter((key) => entry[key] === 0xffffffff);
  if (needs.length === 0) return;
  for (let at = start; at + 4 <= start + length;) {
    const id = view.getUint16(at, true);
    const size = view.getUint16(at + 2, true);
    if (id === 0x0001) {
      if (size < 8 * needs.length || at + 4 + size > start + length) break;
      needs.forEach((key, i) => { entry[key] = view.getUint32(at + 4 + 8 * i, true) + view.getUint32(at + 8 + 8 * i, true) * 2 ** 32; });
      return;
    }
    at += 4 + size;
  }
  fail(`has a member '${entry.name}' whose sizes need a ZIP64 extra field that is missing or short (damaged zip)`, entry.name);
}

function memberData(bytes: Uint8Array, view: DataView, entry: CentralEntry, directoryOffset: number, fail: Fail): Uint8Array {
  const { name, localOffset, compressedSize, size } = entry;
  const member = `member '${name}'`;
  if (entry.flags & 1) fail(`has an encrypted ${member}, which is not supported`, name);
  if (entry.method !== 0 && entry.method !== 8) fail(`has a ${member} compressed with method ${entry.method}; only stored (0) and deflate (8) are read`, name);
  if (localOffset + localHeaderBytes > directoryOffset || view.getUint32(localOffset, true) !== signatures.local) {
    fail(`has no local header for ${member} at byte ${localOffset} (damaged zip)`, name);
  }
  const nameLength = view.getUint16(localOffset + 26, true);
  const dataStart = localOffset + localHeaderBytes + nameLength + view.getUint16(localOffset + 28, true);
  const localStart = localOffset + localHeaderBytes;
  const localName = utf8.decode(bytes.subarray(localStart, localStart + Math.min(nameLength, bytes.length - localStart)));
  if (localName !== name) fail(`has a local header named '${localName}' where the directory says '${name}' (damaged zip)`, name);
  if (dataStart + compressedSize > directoryOffset) {
    fail(`has a ${member} of ${compressedSize} bytes at byte ${dataStart} that runs past the members' end at byte ${directoryOffset} (truncated or damaged zip)`, name);
  }
  const stored = bytes.subarray(dataStart, dataStart + compressedSize);
  let data: Uint8Array;
  if (entry.method === 0) {
    if (compressedSize !== size) fail(`has a stored ${member} whose sizes disagree (${compressedSize} stored, ${size} declared)`, name);
    data = stored;
  } else {
    if (size > compressedSize * maxDeflateRatio + 64) fail(`has a ${member} that claims to inflate ${compressedSize} bytes to ${size}, more than deflate can (damaged zip)`, name);
    try {
      // The ratio check above bounds the output: deflate cannot expand past it.
      data = inflateSync(stored);
    } catch (error) {
      return fail(`has a ${member} that cannot be inflated (${(error as Error).message}) (damaged zip)`, name);
    }
    if (data.length !== size) fail(`has a ${member} that inflates to ${data.length} bytes, not the ${size} it declares (damaged zip)`, name);
  }
  const crc = crc32(data);
  if (crc !== entry.crc) fail(`has a ${member} whose CRC-32 is ${hex(crc)}, not the ${hex(entry.crc)} recorded (damaged file)`, name);
  return data;
}

const hex = (value: number): string => `0x${value.toString(16).padStart(8, '0')}`;

let crcTable: Uint32Array | undefined;

/** The CRC-32 of zip and PNG (reflected polynomial 0xedb88320). */
export function crc32(data: Uint8Array): number {
  if (crcTable === undefined) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = crcTable[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
