// Timbres for additive synthesis: six archetypes (plucked, struck, bowed, blown, organ, pad)
// each give the ranges of a harmonic tone's parameters; a timbre family is one seeded draw
// from an archetype (its prototype, including a fixed irregular spectral envelope), and
// each clip plays a small seeded variation of its family's prototype. Families are split
// 70 / 15 / 15 within each archetype from splitSeed, so every split hears every archetype
// but no family of the test split is heard in training.
// Left out: vibrato and other frequency modulation (the renderer's oscillators run at fixed
// frequency), noise components of real instruments (breath, bow, hammer), formant filters.
import { SeededRandom } from '../random/seeded-random.ts';
import { type Split, splitCounts } from './splits.ts';
import type { Register } from './voicings.ts';

/** The parameters of one harmonic tone, as the additive renderer uses them. */
export interface AdditiveTimbre {
  /** Harmonic partials, the fundamental included (those above 0.45 × sample rate are dropped). */
  partialCount: number;
  /** Spectral slope: partial k is slopeDbPerOctave × log2(k) dB below the fundamental. */
  slopeDbPerOctave: number;
  /** Gain of the even partials 2, 4, ... (1: as odd ones; small: clarinet-like). */
  evenPartialGain: number;
  /** A fixed irregularity of the spectral envelope, dB per partial (length partialCount). */
  partialGainsDb: number[];
  /** Stiff-string inharmonicity B: partial k sits at k·f0·sqrt(1 + B·k²). */
  inharmonicity: number;
  attackSeconds: number;
  /** Time constant of the fundamental's decay towards the sustain level. */
  decaySeconds: number;
  /** Level the decay settles at, as a fraction of the attack's peak (1: no decay). */
  sustainLevel: number;
  /** Higher partials decay faster: partial k's time constant is decaySeconds / (1 + damping·(k−1)). */
  partialDamping: number;
  /** Time to fall by 60 dB after the note ends. */
  releaseSeconds: number;
}

type Range = readonly [number, number];

interface Archetype {
  partialCount: Range; slopeDbPerOctave: Range; evenPartialGain: Range; spectralRoughnessDb: number;
  inharmonicity: Range; attackSeconds: Range; decaySeconds: Range; sustainLevel: Range;
  partialDamping: Range; releaseSeconds: Range; register: Register;
}

export const timbreArchetypes = {
  plucked: {
    partialCount: [8, 20], slopeDbPerOctave: [-10, -4], evenPartialGain: [0.4, 1], spectralRoughnessDb: 6,
    inharmonicity: [0, 2e-4], attackSeconds: [0.002, 0.01], decaySeconds: [0.4, 1.5], sustainLevel: [0, 0.05],
    partialDamping: [0.1, 0.6], releaseSeconds: [0.03, 0.12], register: { lowestBass: 40, highestBass: 60, highestNote: 86 },
  },
  struck: {
    partialCount: [10, 24], slopeDbPerOctave: [-12, -6], evenPartialGain: [0.5, 1], spectralRoughnessDb: 5,
    inharmonicity: [1e-4, 6e-4], attackSeconds: [0.002, 0.008], decaySeconds: [1, 3.5], sustainLevel: [0, 0.1],
    partialDamping: [0.05, 0.3], releaseSeconds: [0.05, 0.2], register: { lowestBass: 36, highestBass: 60, highestNote: 88 },
  },
  bowed: {
    partialCount: [8, 20], slopeDbPerOctave: [-9, -4], evenPartialGain: [0.5, 1], spectralRoughnessDb: 8,
    inharmonicity: [0, 2e-5], attackSeconds: [0.04, 0.15], decaySeconds: [0.5, 2], sustainLevel: [0.7, 1],
    partialDamping: [0, 0.1], releaseSeconds: [0.08, 0.2], register: { lowestBass: 40, highestBass: 62, highestNote: 88 },
  },
  blown: {
    partialCount: [5, 14], slopeDbPerOctave: [-8, -3], evenPartialGain: [0.03, 0.4], spectralRoughnessDb: 6,
    inharmonicity: [0, 1e-5], attackSeconds: [0.02, 0.08], decaySeconds: [0.5, 2], sustainLevel: [0.8, 1],
    partialDamping: [0, 0.1], releaseSeconds: [0.03, 0.1], register: { lowestBass: 43, highestBass: 64, highestNote: 88 },
  },
  organ: {
    partialCount: [3, 12], slopeDbPerOctave: [-10, -2], evenPartialGain: [0.3, 1], spectralRoughnessDb: 12,
    inharmonicity: [0, 0], attackSeconds: [0.005, 0.02], decaySeconds: [1, 3], sustainLevel: [1, 1],
    partialDamping: [0, 0], releaseSeconds: [0.02, 0.06], register: { lowestBass: 36, highestBass: 60, highestNote: 88 },
  },
  pad: {
    partialCount: [3, 8], slopeDbPerOctave: [-15, -8], evenPartialGain: [0.5, 1], spectralRoughnessDb: 4,
    inharmonicity: [0, 1e-5], attackSeconds: [0.1, 0.3], decaySeconds: [1, 3], sustainLevel: [0.8, 1],
    partialDamping: [0, 0.05], releaseSeconds: [0.15, 0.3], register: { lowestBass: 36, highestBass: 60, highestNote: 86 },
  },
} as const satisfies Record<string, Archetype>;

export type TimbreArchetype = keyof typeof timbreArchetypes;
export const timbreArchetypeNames = Object.keys(timbreArchetypes) as TimbreArchetype[];

export interface TimbreFamily {
  /** 'additive-plucked-3': archetype and number within it. */
  name: string;
  archetype: TimbreArchetype;
  register: Register;
  prototype: AdditiveTimbre;
}

const drawRange = (random: SeededRandom, [low, high]: Range): number => random.uniform(low, high);

/** Family `number` of an archetype: the same for the same splitSeed, whatever else is asked. */
export function timbreFamily(splitSeed: number, archetype: TimbreArchetype, number: number): TimbreFamily {
  const ranges: Archetype = timbreArchetypes[archetype];
  const random = SeededRandom.derive(splitSeed, 'timbre-family', archetype, number);
  const partialCount = random.integer(ranges.partialCount[0], ranges.partialCount[1]);
  const prototype: AdditiveTimbre = {
    partialCount,
    slopeDbPerOctave: drawRange(random, ranges.slopeDbPerOctave),
    evenPartialGain: drawRange(random, ranges.evenPartialGain),
    partialGainsDb: Array.from({ length: partialCount }, (_, k) => (k === 0 ? 0 : random.uniform(-1, 1) * ranges.spectralRoughnessDb)),
    inharmonicity: drawRange(random, ranges.inharmonicity),
    attackSeconds: drawRange(random, ranges.attackSeconds),
    decaySeconds: drawRange(random, ranges.decaySeconds),
    sustainLevel: drawRange(random, ranges.sustainLevel),
    partialDamping: drawRange(random, ranges.partialDamping),
    releaseSeconds: drawRange(random, ranges.releaseSeconds),
  };
  return { name: `additive-${archetype}-${number}`, archetype, register: ranges.register, prototype };
}

/** The timbre families of each split: familiesPerArchetype per archetype, dealt 70 / 15 / 15. */
export function splitTimbreFamilies(splitSeed: number, familiesPerArchetype: number): Record<Split, TimbreFamily[]> {
  const result: Record<Split, TimbreFamily[]> = { train: [], validation: [], test: [] };
  for (const archetype of timbreArchetypeNames) {
    const families = Array.from({ length: familiesPerArchetype }, (_, number) => timbreFamily(splitSeed, archetype, number));
    const shuffled = SeededRandom.derive(splitSeed, 'timbre-split', archetype).shuffled(families);
    const counts = splitCounts(shuffled.length);
    result.train.push(...shuffled.slice(0, counts.train));
    result.validation.push(...shuffled.slice(counts.train, counts.train + counts.validation));
    result.test.push(...shuffled.slice(counts.train + counts.validation));
  }
  return result;
}

/** One clip's variation of a family's prototype: small changes that keep the family's character. */
export function varyTimbre(prototype: AdditiveTimbre, random: SeededRandom): AdditiveTimbre {
  const scale = (value: number): number => value * random.logUniform(0.7, 1.4);
  const partialCount = Math.max(2, Math.min(prototype.partialCount, prototype.partialCount + random.integer(-2, 0)));
  return {
    partialCount,
    slopeDbPerOctave: prototype.slopeDbPerOctave + random.uniform(-1.5, 1.5),
    evenPartialGain: Math.min(1, prototype.evenPartialGain * random.logUniform(0.8, 1.25)),
    partialGainsDb: prototype.partialGainsDb.slice(0, partialCount).map((gain, k) => (k === 0 ? 0 : gain + random.uniform(-1.5, 1.5))),
    inharmonicity: scale(prototype.inharmonicity),
    attackSeconds: scale(prototype.attackSeconds),
    decaySeconds: scale(prototype.decaySeconds),
    sustainLevel: Math.min(1, Math.max(0, prototype.sustainLevel + random.uniform(-0.05, 0.05))),
    partialDamping: scale(prototype.partialDamping),
    releaseSeconds: scale(prototype.releaseSeconds),
  };
}
