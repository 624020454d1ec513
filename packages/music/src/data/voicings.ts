// Voicings of major and minor triads: a catalog of voicing patterns, their disjoint split
// into train / validation / test, and their placement at a pitch register.
// A pattern is a set of slots (chord tone, octave above the bass's octave): 'R0 T0 F0' is
// the close root-position triad, 'T0 R1 F1' an open first inversion, 'R0 F0 R1 T1' a
// doubled root. The catalog holds every set of 3 to 5 slots over three octaves that
// contains root, third and fifth and starts in the lowest octave; patterns are the same
// for major and minor (only the third's interval differs). Patterns are split stratified
// by (inversion, number of notes), so every split has every inversion and size, and no
// pattern of the test split is heard in training. A style may still miss a split: each
// close triad is one pattern of its stratum, and with splitSeed 0 none is in the test split,
// so the test split's triads are all open voicings.
// Other qualities use the same patterns: 'T' is the chord's third (or its suspended second
// or fourth), 'F' its fifth (diminished or augmented where the quality says), and a seventh
// or sixth chord adds its seventh or sixth within the octave above the bass (so its voicing
// has one note more than its pattern). Left out: the seventh in the bass (third inversion),
// non-chord tones.
import { SeededRandom } from '../random/seeded-random.ts';
import { type Split, splitCounts } from './splits.ts';

/** The qualities clips can hold: the chord vocabularies' (chords/vocabularies.ts). */
export const chordQualityNames = ['maj', 'min', '7', 'maj7', 'min7', 'dim', 'aug', 'sus2', 'sus4', 'maj6', 'min6'] as const;
export type ChordQuality = (typeof chordQualityNames)[number];
export type ChordTone = 'R' | 'T' | 'F';
export type Inversion = 'root' | 'first' | 'second';
/** close: 3 notes within an octave; open: 3 notes over more than an octave; doubled: 4–5 notes. */
export type VoicingStyle = 'close' | 'open' | 'doubled';

export interface VoicingSlot { tone: ChordTone; octave: number }

export interface VoicingPattern {
  /** The slots lowest first, e.g. 'T0 F0 R1'. */
  id: string;
  slots: readonly VoicingSlot[];
  inversion: Inversion;
  style: VoicingStyle;
}

const chordTones: readonly ChordTone[] = ['R', 'T', 'F'];
const octavesInCatalog = 3;
const smallestVoicing = 3;
const largestVoicing = 5;

/** Semitones of a chord tone above the root. */
export function toneInterval(tone: ChordTone, quality: ChordQuality): number {
  if (tone === 'R') return 0;
  if (tone === 'F') return quality === 'dim' ? 6 : quality === 'aug' ? 8 : 7;
  switch (quality) {
    case 'min': case 'min7': case 'min6': case 'dim': return 3;
    case 'sus2': return 2;
    case 'sus4': return 5;
    default: return 4;
  }
}

/** Semitones above the root of the tone a four-note quality adds to its triad (a seventh or a sixth), or null for a triad. */
export function addedToneInterval(quality: ChordQuality): number | null {
  switch (quality) {
    case '7': case 'min7': return 10;
    case 'maj7': return 11;
    case 'maj6': case 'min6': return 9;
    default: return null;
  }
}

/** The slot's pitch order is the same for major and minor, so either quality sorts them. */
const slotPitch = (slot: VoicingSlot): number => toneInterval(slot.tone, 'maj') + 12 * slot.octave;

function patternFromSlots(slots: VoicingSlot[]): VoicingPattern {
  const sorted = slots.slice().sort((a, b) => slotPitch(a) - slotPitch(b));
  const bass = sorted[0] as VoicingSlot;
  const top = sorted[sorted.length - 1] as VoicingSlot;
  const inversion: Inversion = bass.tone === 'R' ? 'root' : bass.tone === 'T' ? 'first' : 'second';
  const style: VoicingStyle = sorted.length > 3 ? 'doubled' : slotPitch(top) - slotPitch(bass) < 12 ? 'close' : 'open';
  return { id: sorted.map((slot) => `${slot.tone}${slot.octave}`).join(' '), slots: sorted, inversion, style };
}

/** Every voicing pattern, in a fixed order (by size, then by the slots' bit mask). */
export function voicingCatalog(): VoicingPattern[] {
  const allSlots: VoicingSlot[] = [];
  for (let octave = 0; octave < octavesInCatalog; octave++) {
    for (const tone of chordTones) allSlots.push({ tone, octave });
  }
  const patterns: VoicingPattern[] = [];
  for (let size = smallestVoicing; size <= largestVoicing; size++) {
    for (let mask = 1; mask < 1 << allSlots.length; mask++) {
      const slots = allSlots.filter((_, bit) => (mask >>> bit) & 1);
      if (slots.length !== size) continue;
      if (!chordTones.every((tone) => slots.some((slot) => slot.tone === tone))) continue;
      if (!slots.some((slot) => slot.octave === 0)) continue; // the bass sits in octave 0
      patterns.push(patternFromSlots(slots));
    }
  }
  return patterns;
}

/** The catalog split into three disjoint sets, stratified by (inversion, size), from splitSeed. */
export function splitVoicings(splitSeed: number): Record<Split, VoicingPattern[]> {
  const result: Record<Split, VoicingPattern[]> = { train: [], validation: [], test: [] };
  const strata = new Map<string, VoicingPattern[]>();
  for (const pattern of voicingCatalog()) {
    const key = `${pattern.inversion}/${pattern.slots.length}`;
    strata.set(key, [...(strata.get(key) ?? []), pattern]);
  }
  for (const [key, patterns] of strata) {
    const shuffled = SeededRandom.derive(splitSeed, 'voicing-split', key).shuffled(patterns);
    const counts = splitCounts(shuffled.length);
    result.train.push(...shuffled.slice(0, counts.train));
    result.validation.push(...shuffled.slice(counts.train, counts.train + counts.validation));
    result.test.push(...shuffled.slice(counts.train + counts.validation));
  }
  return result;
}

/** How often chords have 3, 4 and 5 notes, and each inversion: triads and root position most. */
const sizeWeights: Record<number, number> = { 3: 0.5, 4: 0.35, 5: 0.15 };
const inversionWeights: Record<Inversion, number> = { root: 0.5, first: 0.25, second: 0.25 };

function weightedChoice<T>(items: readonly T[], weight: (item: T) => number, random: SeededRandom): T {
  const total = items.reduce((sum, item) => sum + weight(item), 0);
  let target = random.next() * total;
  for (const item of items) {
    target -= weight(item);
    if (target < 0) return item;
  }
  return items[items.length - 1] as T;
}

/**
 * A pattern from `patterns`: first a size (3, 4, 5 notes), then an inversion, by the weights
 * above among those present, then uniformly. Uniform over patterns would be nine parts in ten
 * 4- and 5-note voicings, since there are many more of them.
 */
export function chooseVoicing(patterns: readonly VoicingPattern[], random: SeededRandom): VoicingPattern {
  const sizes = [...new Set(patterns.map((pattern) => pattern.slots.length))];
  const size = weightedChoice(sizes, (count) => sizeWeights[count] ?? 0.1, random);
  const ofSize = patterns.filter((pattern) => pattern.slots.length === size);
  const inversions = [...new Set(ofSize.map((pattern) => pattern.inversion))];
  const inversion = weightedChoice(inversions, (name) => inversionWeights[name], random);
  return random.choice(ofSize.filter((pattern) => pattern.inversion === inversion));
}

/** Where an instrument's voicings may sit: the bass's range and the highest note allowed. */
export interface Register { lowestBass: number; highestBass: number; highestNote: number }

/**
 * MIDI note numbers (lowest first) of the chord (root pitch class 0–11, quality) voiced by
 * the pattern, with the bass at a random octave inside the register; if the pattern is
 * too wide for every allowed bass, the lowest allowed bass is used and the top may exceed
 * highestNote.
 */
export function placeVoicing(
  root: number, quality: ChordQuality, pattern: VoicingPattern, register: Register, random: SeededRandom,
): number[] {
  const bassSlot = pattern.slots[0] as VoicingSlot;
  const bassClass = (root + toneInterval(bassSlot.tone, quality)) % 12;
  const offsets = pattern.slots.map((slot) => toneInterval(slot.tone, quality) - toneInterval(bassSlot.tone, quality) + 12 * slot.octave);
  const added = addedToneInterval(quality);
  if (added !== null) {
    offsets.push((((added - toneInterval(bassSlot.tone, quality)) % 12) + 12) % 12);
    offsets.sort((a, b) => a - b);
  }
  const span = offsets[offsets.length - 1] as number;
  const basses: number[] = [];
  for (let bass = register.lowestBass; bass <= register.highestBass; bass++) {
    if (bass % 12 === bassClass) basses.push(bass);
  }
  if (basses.length === 0) {
    throw new Error(`data/voicings: the register ${register.lowestBass}..${register.highestBass} holds no bass note of pitch class ${bassClass}; a register must span at least 12 semitones.`);
  }
  const fitting = basses.filter((bass) => bass + span <= register.highestNote);
  const bass = fitting.length > 0 ? random.choice(fitting) : (basses[0] as number);
  return offsets.map((offset) => bass + offset);
}
