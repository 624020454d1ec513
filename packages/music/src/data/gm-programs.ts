// The General MIDI programs the FluidSynth data set plays chords on, grouped by GM family,
// each family with the register its chords are placed in, and their split: within every
// family the programs are shuffled from splitSeed and dealt 70 / 15 / 15, so each split
// hears every family (pianos, organs, ...) but no program of the test split is in training.
// Program numbers are 0-based, as written in the MIDI program change.
// Left out, on purpose: basses (32–39: one low note, no chord), drums, sound effects
// (120–127), ethnic (104–111), FX synths (96–103) and a few programs whose sound is not the
// notes played: Lead 7 'fifths' adds a fifth, Guitar Harmonics and Orchestra Hit, Timpani,
// Contrabass (below chord register), Glockenspiel and Xylophone (too high and short).
import { SeededRandom } from '../random/seeded-random.ts';
import { type Split, splitCounts } from './splits.ts';
import type { Register } from './voicings.ts';

export interface GmFamily {
  name: string;
  register: Register;
  programs: readonly { program: number; name: string }[];
}

const programs = (entries: [number, string][]) => entries.map(([program, name]) => ({ program, name }));

export const gmFamilies: readonly GmFamily[] = [
  { name: 'piano', register: { lowestBass: 36, highestBass: 60, highestNote: 88 }, programs: programs([
    [0, 'Acoustic Grand Piano'], [1, 'Bright Acoustic Piano'], [2, 'Electric Grand Piano'], [3, 'Honky-tonk Piano'],
    [4, 'Electric Piano 1'], [5, 'Electric Piano 2'], [6, 'Harpsichord'], [7, 'Clavinet']]) },
  { name: 'chromatic percussion', register: { lowestBass: 48, highestBass: 66, highestNote: 90 }, programs: programs([
    [8, 'Celesta'], [10, 'Music Box'], [11, 'Vibraphone'], [12, 'Marimba'], [15, 'Dulcimer']]) },
  { name: 'organ', register: { lowestBass: 36, highestBass: 60, highestNote: 88 }, programs: programs([
    [16, 'Drawbar Organ'], [17, 'Percussive Organ'], [18, 'Rock Organ'], [19, 'Church Organ'],
    [20, 'Reed Organ'], [21, 'Accordion'], [22, 'Harmonica'], [23, 'Tango Accordion']]) },
  { name: 'guitar', register: { lowestBass: 40, highestBass: 60, highestNote: 84 }, programs: programs([
    [24, 'Acoustic Guitar (nylon)'], [25, 'Acoustic Guitar (steel)'], [26, 'Electric Guitar (jazz)'],
    [27, 'Electric Guitar (clean)'], [28, 'Electric Guitar (muted)'], [29, 'Overdriven Guitar'], [30, 'Distortion Guitar']]) },
  { name: 'strings', register: { lowestBass: 40, highestBass: 62, highestNote: 88 }, programs: programs([
    [40, 'Violin'], [41, 'Viola'], [42, 'Cello'], [44, 'Tremolo Strings'], [45, 'Pizzicato Strings'],
    [46, 'Orchestral Harp'], [48, 'String Ensemble 1'], [49, 'String Ensemble 2'], [50, 'Synth Strings 1'], [51, 'Synth Strings 2']]) },
  { name: 'voices', register: { lowestBass: 43, highestBass: 62, highestNote: 81 }, programs: programs([
    [52, 'Choir Aahs'], [53, 'Voice Oohs'], [54, 'Synth Voice']]) },
  { name: 'brass', register: { lowestBass: 38, highestBass: 60, highestNote: 82 }, programs: programs([
    [56, 'Trumpet'], [57, 'Trombone'], [58, 'Tuba'], [59, 'Muted Trumpet'], [60, 'French Horn'],
    [61, 'Brass Section'], [62, 'Synth Brass 1'], [63, 'Synth Brass 2']]) },
  { name: 'reed', register: { lowestBass: 40, highestBass: 62, highestNote: 84 }, programs: programs([
    [64, 'Soprano Sax'], [65, 'Alto Sax'], [66, 'Tenor Sax'], [67, 'Baritone Sax'], [68, 'Oboe'],
    [69, 'English Horn'], [70, 'Bassoon'], [71, 'Clarinet']]) },
  { name: 'pipe', register: { lowestBass: 52, highestBass: 70, highestNote: 93 }, programs: programs([
    [73, 'Flute'], [74, 'Recorder'], [75, 'Pan Flute'], [76, 'Blown Bottle'], [77, 'Shakuhachi'], [79, 'Ocarina']]) },
  { name: 'synth lead', register: { lowestBass: 40, highestBass: 62, highestNote: 86 }, programs: programs([
    [80, 'Lead 1 (square)'], [81, 'Lead 2 (sawtooth)'], [82, 'Lead 3 (calliope)'], [83, 'Lead 4 (chiff)'],
    [84, 'Lead 5 (charang)'], [85, 'Lead 6 (voice)']]) },
  { name: 'synth pad', register: { lowestBass: 36, highestBass: 60, highestNote: 88 }, programs: programs([
    [88, 'Pad 1 (new age)'], [89, 'Pad 2 (warm)'], [90, 'Pad 3 (polysynth)'], [91, 'Pad 4 (choir)'],
    [92, 'Pad 5 (bowed)'], [93, 'Pad 6 (metallic)'], [94, 'Pad 7 (halo)'], [95, 'Pad 8 (sweep)']]) },
];

export interface GmInstrument {
  family: string;
  program: number;
  name: string;
  register: Register;
}

/** The GM programs of each split, stratified by family, from splitSeed. */
export function splitGmPrograms(splitSeed: number): Record<Split, GmInstrument[]> {
  const result: Record<Split, GmInstrument[]> = { train: [], validation: [], test: [] };
  for (const family of gmFamilies) {
    const instruments = family.programs.map(({ program, name }) => ({ family: family.name, program, name, register: family.register }));
    const shuffled = SeededRandom.derive(splitSeed, 'gm-split', family.name).shuffled(instruments);
    const counts = splitCounts(shuffled.length);
    result.train.push(...shuffled.slice(0, counts.train));
    result.validation.push(...shuffled.slice(counts.train, counts.train + counts.validation));
    result.test.push(...shuffled.slice(counts.train + counts.validation));
  }
  return result;
}
