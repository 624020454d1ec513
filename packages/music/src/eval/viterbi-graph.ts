// Viterbi decoding as a graph, so that it runs on the device beside the model and its
// transition matrix is a shared variable that gradients reach. The max-product recursion
// is one T.scan over frames, the backtrace a second scan read backwards:
//   δ₀[k] = e₀[k] + π[k]
//   δ_t[k] = max_j (δ_{t−1}[j] + A[j, k]) + e_t[k],  ψ_t[k] = argmax_j (…)
//   path[T−1] = argmax δ_{T−1},  path[t−1] = ψ_t[path[t]]
// Each step subtracts the largest δ (and carries it in a running offset), so that in
// float32 a long song's scores stay near 0 and frames far apart still compare exactly
// enough; `score` adds the offsets back: the best path's log score, whose gradient with
// respect to A counts the path's transitions (and with respect to e marks its frames).
// Shapes: emissions [frames, classes] (log domain), transitions [classes, classes] (from
// row, to column, log probabilities), initial [classes].
// The host decoder (decode.ts, viterbiDecode) is the reference; paths agree except on
// exact ties (argmax takes the first maximum, the host prefers staying on a class).
// Left out: beam pruning, and frames in blocks (one scan step per frame).

import * as T from '@theorbo/graph';
import { countTransitions, logTransitionRows } from './chord-transitions.ts';

export interface ViterbiGraph {
  /** The most likely class of every frame: [frames] int32. */
  path: T.Variable;
  /** The best path's log score (float32 scalar): Σ emissions + Σ transitions + initial. */
  score: T.Variable;
}

/** The log transition matrix [classes, classes] of a sticky HMM: p to stay, (1 − p)/(K − 1) to each other class. */
export function stickyTransitions(classes: number, selfTransition: number): T.NDArray {
  if (!Number.isInteger(classes) || classes < 1) throw new Error(`stickyTransitions: the number of classes must be a positive whole number, not ${classes}.`);
  if (!(selfTransition > 0 && selfTransition < 1) && !(classes === 1 && selfTransition === 1)) {
    throw new Error(`stickyTransitions: the self-transition probability must lie strictly between 0 and 1, not ${selfTransition}.`);
  }
  const stay = Math.log(selfTransition);
  const move = classes > 1 ? Math.log((1 - selfTransition) / (classes - 1)) : -Infinity;
  return T.array(Float32Array.from({ length: classes * classes }, (_, i) => (Math.floor(i / classes) === i % classes ? stay : move)), { shape: [classes, classes] });
}

/**
 * Chord transitions learned by counting: the log of (count(j → k) + smoothing) / row sum
 * over frame-label sequences (vocabulary indices; −1 frames break a sequence). The
 * maximum-likelihood HMM transition matrix, which `viterbiGraph` can read as is.
 */
export function transitionsFromLabels(sequences: readonly ArrayLike<number>[], classes: number, smoothing = 1): T.NDArray {
  if (!(smoothing >= 0)) throw new Error(`transitionsFromLabels: smoothing must be ≥ 0, not ${smoothing}.`);
  return T.array(Float32Array.from(logTransitionRows(countTransitions(sequences, classes), classes, smoothing)), { shape: [classes, classes] });
}

/** The transition matrix as a learnable shared variable, starting sticky (or from `initial`). */
export function transitionVariable(classes: number, selfTransition: number, initial?: T.NDArray, name = 'chord_transitions'): T.SharedVariable {
  return T.shared(initial ?? stickyTransitions(classes, selfTransition), name);
}

/**
 * The Viterbi path and its score as a graph. `emissions` [frames ≥ 1, classes] are log
 * scores (log-softmax outputs, say); `transitions` [classes, classes] log probabilities
 * (a shared variable to learn them); `initial` [classes] the log start distribution
 * (default uniform: it changes no path).
 */
export function viterbiGraph(emissions: T.Variable, transitions: T.Variable, initial?: T.Variable): ViterbiGraph {
  if (emissions.ndim !== 2 || transitions.ndim !== 2) {
    throw new Error(`viterbiGraph: emissions must be [frames, classes] and transitions [classes, classes], not ${emissions.type} and ${transitions.type}.`);
  }
  const classes = emissions.shape[1];
  if (classes !== null && (transitions.shape[0] !== null && transitions.shape[0] !== classes || transitions.shape[1] !== null && transitions.shape[1] !== classes)) {
    throw new Error(`viterbiGraph: emissions have ${classes} classes but transitions are ${transitions.type}; they must be [${classes}, ${classes}].`);
  }
  if (initial !== undefined && (initial.ndim !== 1 || (classes !== null && initial.shape[0] !== null && initial.shape[0] !== classes))) {
    throw new Error(`viterbiGraph: initial must be [${classes ?? 'classes'}], not ${initial.type}.`);
  }
  const first = T.get(emissions, 0);
  const start = initial === undefined ? first : T.add(first, initial);
  const startMax = T.max(start);
  // δ and the offset are kept for the last step only (with one frame the scan runs no
  // step and they are their initial values); the backpointers for every step.
  const { outputs: [last, offset, backpointers] } = T.scan({
    name: 'viterbi',
    fn: (emission, previous, offset) => {
      const candidates = T.add(previous.dimshuffle(0, 'x'), transitions);
      const delta = T.add(T.max(candidates, 0), emission);
      const top = T.max(delta);
      return [T.sub(delta, top), T.add(offset, top), T.argmax(candidates, 0)];
    },
    sequences: [T.get(emissions, T.slice(1))],
    outputsInfo: [{ initial: T.sub(start, startMax), keep: 'last' }, { initial: startMax, keep: 'last' }, null],
  });
  const final = T.argmax(last!, 0);
  const score = T.add(offset!, T.max(last!));
  const { outputs: [earlier] } = T.scan({
    name: 'viterbi_backtrace',
    fn: (pointers, state) => T.get(pointers, state),
    sequences: [backpointers!],
    outputsInfo: [final],
    goBackwards: true,
  });
  const path = T.concat([T.flip(earlier!, 0), T.expandDims(final, 0)], 0);
  return { path, score };
}
