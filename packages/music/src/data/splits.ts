// The three splits and the one rule that sizes them: whatever is partitioned (GM programs
// of a family, additive timbre families of an archetype, voicing patterns of a stratum)
// goes 70 / 15 / 15 to train / validation / test, with at least one member in validation
// and test whenever there are three or more members, and everything in train otherwise.
// Left out: cross-validation folds; k-way splits.

export const splits = ['train', 'validation', 'test'] as const;
export type Split = (typeof splits)[number];

export const splitFractions: Readonly<Record<Split, number>> = { train: 0.7, validation: 0.15, test: 0.15 };

/** How many of `total` members go to each split. */
export function splitCounts(total: number): Record<Split, number> {
  if (total < 3) return { train: total, validation: 0, test: 0 };
  const validation = Math.max(1, Math.round(total * splitFractions.validation));
  const test = Math.max(1, Math.round(total * splitFractions.test));
  return { train: total - validation - test, validation, test };
}
