// Parsers for the CLI's flags, checked by commander while it reads the command line,
// so that a bad flag is refused before any device is acquired or file read. A refusal
// is commander's InvalidArgumentError, which commander prefixes with the flag
// ("option '--clips <n>' argument '0' is invalid. …"); theorbo.ts turns it into exit
// code 2. UsageError is the same kind of refusal found later, in an action (a --out
// that holds a run, flags that contradict each other): also exit code 2.
// Left out: flags that name files; those are checked when the file is read.

import { InvalidArgumentError } from 'commander';

/** A command line that cannot be run as written; the CLI exits with code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A whole number in [min, max], written in plain digits ('1e3', '0x10', '2.0' and '' are refused). */
export function wholeNumber(min: number, max: number, why = ''): (value: string) => number {
  return (value: string) => {
    const parsed = /^[0-9]+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
    if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      throw new InvalidArgumentError(`Expected a whole number from ${min} to ${max}${why}.`);
    }
    return parsed;
  };
}

/** A comma-separated list of whole numbers, each in [min, max], at least one. */
export function wholeNumbers(min: number, max: number): (value: string) => number[] {
  const one = wholeNumber(min, max);
  return (value: string) => {
    const parts = value.split(',');
    try {
      return parts.map(one);
    } catch {
      throw new InvalidArgumentError(`Expected comma-separated whole numbers from ${min} to ${max}, e.g. 256,64.`);
    }
  };
}

/** One of a closed list of words. */
export function oneOf<const Word extends string>(words: readonly Word[]): (value: string) => Word {
  return (value: string) => {
    if (!(words as readonly string[]).includes(value)) throw new InvalidArgumentError(`Expected one of ${words.join(', ')}.`);
    return value as Word;
  };
}

// The ranges: generous for real use, small enough that a typo (1e20, an extra zero run
// twice) is caught instead of exhausting memory.
export const clipsFlag = wholeNumber(3, 100_000, ' (one clip each at least for training, validation and test)');
export const synthClipsFlag = wholeNumber(1, 100_000);
export const epochsFlag = wholeNumber(1, 100_000);
export const seedFlag = wholeNumber(0, 2 ** 32 - 1);
export const hiddenFlag = wholeNumbers(1, 65_536);
export const sourceFlag = oneOf(['additive', 'fluidsynth', 'both'] as const);
// 512 mel bands is already 2 FFT bins or fewer per band at librosa's nFft 2048.
export const melBandsFlag = wholeNumber(1, 512);
export const mfccCountFlag = wholeNumber(1, 512);

/** A probability strictly between 0 and 1, written as a plain decimal ('0.9', '.95'). */
export function openProbability(value: string): number {
  const parsed = /^(0?\.[0-9]+|0)$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!(parsed > 0 && parsed < 1)) throw new InvalidArgumentError('Expected a probability strictly between 0 and 1, e.g. 0.9.');
  return parsed;
}

/** A probability from 0 to 1 inclusive, as a plain decimal ('0', '0.25', '1'). */
export function probability(value: string): number {
  const parsed = /^(0?\.[0-9]+|[01](\.0*)?)$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!(parsed >= 0 && parsed <= 1)) throw new InvalidArgumentError('Expected a probability from 0 to 1, e.g. 0.25.');
  return parsed;
}

/** An odd whole number of frames from 1 to 10001 (a centred window). */
export function oddFrames(value: string): number {
  const parsed = wholeNumber(1, 10_001)(value);
  if (parsed % 2 === 0) throw new InvalidArgumentError('Expected an odd whole number of frames (a centred window), e.g. 9.');
  return parsed;
}
