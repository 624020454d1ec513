// Base64 of bytes without Node's Buffer (the browser build has none): saved graphs hold
// their constants and shared values this way. Standard alphabet, with padding.

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const lookup = new Int16Array(128).fill(-1);
for (let i = 0; i < alphabet.length; i++) lookup[alphabet.charCodeAt(i)] = i;

const alphabetCodes = Uint8Array.from(alphabet, (char) => char.charCodeAt(0));
const ascii = new TextDecoder();

export function bytesBase64(bytes: Uint8Array): string {
  // Into ASCII bytes with a table, then one decode: fast in browsers and Node alike.
  const out = new Uint8Array(Math.ceil(bytes.length / 3) * 4);
  let o = 0;
  const whole = bytes.length - (bytes.length % 3);
  for (let i = 0; i < whole; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out[o++] = alphabetCodes[n >> 18]!;
    out[o++] = alphabetCodes[(n >> 12) & 63]!;
    out[o++] = alphabetCodes[(n >> 6) & 63]!;
    out[o++] = alphabetCodes[n & 63]!;
  }
  if (whole < bytes.length) {
    const second = whole + 1 < bytes.length;
    const n = (bytes[whole]! << 16) | ((second ? bytes[whole + 1]! : 0) << 8);
    out[o++] = alphabetCodes[n >> 18]!;
    out[o++] = alphabetCodes[(n >> 12) & 63]!;
    out[o++] = second ? alphabetCodes[(n >> 6) & 63]! : 61;
    out[o++] = 61;
  }
  return ascii.decode(out);
}

/** The bytes of a base64 string; throws a sentence naming the first bad character. */
export function base64Bytes(text: string): Uint8Array {
  if (text.length % 4 !== 0) throw new Error(`base64 text of ${text.length} characters is not a multiple of 4 long`);
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const bytes = new Uint8Array((text.length / 4) * 3 - padding);
  let out = 0;
  for (let i = 0; i < text.length; i += 4) {
    let n = 0;
    for (let j = 0; j < 4; j++) {
      const code = text.charCodeAt(i + j);
      const isPad = code === 61 && i + j >= text.length - padding;
      const digit = isPad ? 0 : code < 128 ? lookup[code]! : -1;
      if (digit < 0) throw new Error(`base64 text has '${text[i + j]}' at character ${i + j}`);
      n = (n << 6) | digit;
    }
    if (out < bytes.length) bytes[out++] = (n >> 16) & 255;
    if (out < bytes.length) bytes[out++] = (n >> 8) & 255;
    if (out < bytes.length) bytes[out++] = n & 255;
  }
  return bytes;
}
