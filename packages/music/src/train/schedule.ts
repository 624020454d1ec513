// Learning-rate schedules, computed on the host and fed to the training step as a scalar
// input each batch, so the compiled step never changes with the rate. A pure function of
// (epoch, step): a resumed run computes the same rates as an uninterrupted one.
//   constant  η
//   step      η · factor^⌊epoch / every⌋
//   cosine    η_min + (η − η_min) · (1 + cos(π · step / totalSteps)) / 2, per batch
// Left out: warm-up, cyclic and plateau-driven schedules.

export type Schedule =
  | { kind: 'constant' }
  | { kind: 'step'; every: number; factor: number }
  | { kind: 'cosine'; minimum?: number };

export interface SchedulePosition {
  /** Epoch index, from 0. */
  epoch: number;
  /** Batches done before this one, counted over the whole run. */
  step: number;
  /** Batches in the whole run (epochs × batches per epoch). */
  totalSteps: number;
}

export function checkSchedule(schedule: Schedule): void {
  if (schedule.kind === 'step' && !(Number.isInteger(schedule.every) && schedule.every > 0 && schedule.factor > 0)) {
    throw new Error(`train: a step schedule needs a positive whole number of epochs 'every' and a positive 'factor', not every=${schedule.every}, factor=${schedule.factor}`);
  }
  if (schedule.kind === 'cosine' && schedule.minimum !== undefined && !(schedule.minimum >= 0)) {
    throw new Error(`train: a cosine schedule's minimum learning rate must be at least 0, not ${schedule.minimum}`);
  }
}

/** The learning rate for one batch. */
export function learningRateAt(base: number, schedule: Schedule, position: SchedulePosition): number {
  switch (schedule.kind) {
    case 'constant':
      return base;
    case 'step':
      return base * schedule.factor ** Math.floor(position.epoch / schedule.every);
    case 'cosine': {
      const minimum = schedule.minimum ?? 0;
      const progress = Math.min(1, position.step / Math.max(1, position.totalSteps));
      return minimum + ((base - minimum) * (1 + Math.cos(Math.PI * progress))) / 2;
    }
  }
}
