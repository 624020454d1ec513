// Harte chord labels (Harte et al., ISMIR 2005), parsed the way mir_eval's chord.encode
// reads them, so that our evaluation agrees with mir_eval's:
//   root(:quality)?(\(degree,...\))?(/bass)?  e.g. 'C', 'Db:min7', 'E#:maj(*3,9)/5', 'N', 'X'
// A label becomes { root, semitones, bass }: the root's pitch class (C = 0), a 12-entry
// bitmap of the chord's pitch classes relative to the root, and the bass's semitone above
// the root. As in mir_eval: a bare root means 'maj'; degrees add (or with '*' remove)
// notes; degrees beyond the octave (9, 11, 13) are dropped; the bass note is added to the
// bitmap; 'N' is root −1 with an empty bitmap and 'X' is root −1 with a bitmap of −1s.
// Left out: mir_eval's reduce_extended_chords option (not used by the root/majmin rules).

/** Pitch-class spelling → semitone, before accidentals. */
const naturalSemitones: Record<string, number> = { C: 0, D: 2, E: 4, F: 5, G: 7, A: 9, B: 11 };

/** Scale degree → semitones above the root. */
const degreeSemitones: Record<string, number> = {
  1: 0, 2: 2, 3: 4, 4: 5, 5: 7, 6: 9, 7: 11, 8: 12, 9: 14, 10: 16, 11: 17, 12: 19, 13: 21,
};

/** Quality shorthands as relative pitch-class bitmaps (mir_eval's QUALITIES table). */
export const chordQualities: Readonly<Record<string, readonly number[]>> = {
  maj: [1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0],
  min: [1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0],
  aug: [1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0],
  dim: [1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0],
  sus4: [1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0],
  sus2: [1, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0],
  7: [1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0],
  maj7: [1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1],
  min7: [1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0],
  minmaj7: [1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1],
  maj6: [1, 0, 0, 0, 1, 0, 0, 1, 0, 1, 0, 0],
  min6: [1, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0],
  dim7: [1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0],
  hdim7: [1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0],
  aug7: [1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0],
  maj9: [1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1],
  min9: [1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0],
  9: [1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0],
  min11: [1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0],
  11: [1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0],
  maj13: [1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1],
  min13: [1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0],
  13: [1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0],
  1: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
  5: [1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0],
};

export interface EncodedChord {
  /** Pitch class of the root (C = 0 … B = 11); −1 for 'N' and 'X'. */
  root: number;
  /** 12 entries, 1 where the chord has the pitch class that many semitones above the root. */
  semitones: readonly number[];
  /** Semitones from root to bass (0 for root position); −1 for 'N' and 'X'. */
  bass: number;
}

const degreePattern = String.raw`(?:b*|#*)(?:1[0-3]|[1-9])`;
const labelPattern = new RegExp(
  String.raw`^([A-G](?:b*|#*))(?::([a-z0-9]*)(?:\((\*?${degreePattern}(?:,\*?${degreePattern})*)\))?)?(?:/(${degreePattern}))?$`,
);

/** The semitone of a pitch-class spelling: 'C' → 0, 'Db' → 1, 'E#' → 5, 'Cb' → 11. */
export function pitchClassOf(spelling: string): number {
  const match = /^([A-G])(b*|#*)$/.exec(spelling);
  if (match === null) throw new Error(`pitchClassOf: '${spelling}' is not a pitch class (a letter A–G, then only b's or only #'s).`);
  const accidentals = match[2]!;
  const shift = accidentals.startsWith('#') ? accidentals.length : -accidentals.length;
  return (((naturalSemitones[match[1]!]! + shift) % 12) + 12) % 12;
}

/** Semitones above the root of a scale degree such as '3', 'b7', '#5', '9'. */
function degreeToSemitone(degree: string): number {
  // b+ or #+ (an alternation of b* and #* would match the empty b* before any '#').
  const accidentals = /^(b+|#+|)/.exec(degree)![1]!;
  const shift = accidentals.startsWith('#') ? accidentals.length : -accidentals.length;
  return degreeSemitones[degree.slice(accidentals.length)]! + shift;
}

// Frame-level evaluation asks for the same few labels millions of times.
const cache = new Map<string, EncodedChord>();

/** Parses a Harte label into root, relative pitch-class bitmap and bass, as mir_eval does. */
export function encodeChord(label: string): EncodedChord {
  const cached = cache.get(label);
  if (cached !== undefined) return cached;
  const encoded = encodeUncached(label);
  cache.set(label, encoded);
  return encoded;
}

function encodeUncached(label: string): EncodedChord {
  if (label === 'N') return Object.freeze({ root: -1, semitones: Object.freeze(new Array<number>(12).fill(0)), bass: -1 });
  if (label === 'X') return Object.freeze({ root: -1, semitones: Object.freeze(new Array<number>(12).fill(-1)), bass: -1 });
  const match = labelPattern.exec(label);
  if (match === null) {
    throw new Error(`encodeChord: '${label}' is not a Harte chord label (expected root(:quality)(degrees)(/bass), e.g. 'C', 'A:min', 'Db:maj7/3', or 'N').`);
  }
  const [, rootSpelling, qualityName, degreeList, bassDegree] = match;
  const degrees = degreeList === undefined ? [] : degreeList.split(',');
  if (qualityName === '' && degrees.length === 0) {
    throw new Error(`encodeChord: '${label}' has a ':' with neither a quality nor degrees after it.`);
  }
  // mir_eval: no quality and no degrees means major; degrees alone start from the root only.
  const quality = qualityName !== undefined && qualityName !== '' ? qualityName : degrees.length > 0 ? '' : 'maj';
  const base = quality === '' ? new Array<number>(12).fill(0) : chordQualities[quality];
  if (base === undefined) {
    throw new Error(`encodeChord: '${label}' has the unknown quality '${quality}'; known qualities are ${Object.keys(chordQualities).join(', ')}.`);
  }
  const counts = [...base];
  counts[0] = 1;
  for (const degree of degrees) {
    const removes = degree.startsWith('*');
    const semitone = degreeToSemitone(removes ? degree.slice(1) : degree);
    // As mir_eval: degrees past the octave are dropped; a flattened unison ('b1') wraps to 11.
    if (semitone < 12) counts[(semitone + 12) % 12]! += removes ? -1 : 1;
  }
  const semitones = counts.map((count) => (count > 0 ? 1 : 0));
  const bass = bassDegree === undefined ? 0 : ((degreeToSemitone(bassDegree) % 12) + 12) % 12;
  semitones[bass] = 1;
  return Object.freeze({ root: pitchClassOf(rootSpelling!), semitones: Object.freeze(semitones), bass });
}
