// @theorbo/music signal: framing, windows, the STFT as a graph and on the host (fft.js),
// the constant-Q transform (Brown–Puckette kernel, octave-recursive), its time-domain
// kernels as a trainable conv1d filterbank, a bank of biquads as a scan (stable pole
// parameters, designed band-passes), chroma and tuning; mel spectrograms, decibels, MFCCs
// and delta features with librosa's names and defaults.
// Graph builders take and return T.Variable, batched over clips ([batch, samples] in);
// they are float32 to compile (float64 runs on the reference evaluator). Defaults:
// 22050 Hz, nFft 2048, hop 512, CQT from C1 (32.70 Hz), 84 bins, 12 per octave.
// Everything here runs in a browser too (browser.ts re-exports this barrel); PCA, which
// trains with the Node-only train(), is exported by the package's Node entry (index.ts).

export { windowCoefficients, windowNames, window, centredWindow, type WindowName } from './windows.ts';
export {
  signalDefaults, maxViewPieces, frameCount, signalInput, frameSignal, framesAt,
  type PadMode, type FrameOptions, type FrameSignalOptions, type FramingMethod, type FramePlacement,
} from './framing.ts';
export {
  binCount, dftMatrices, stftComplex, dftOfFrames, spectrumMagnitude, stft, logCompress,
  type StftOptions, type DftMatrices, type ComplexSpectrum, type SpectrumScale, type LogOptions,
} from './dft.ts';
export { stftHost, stftHostComplex, paddedSample, type HostSignal, type HostSpectrum } from './fft-host.ts';
export { halfBandDesign, halfBandTaps, halfBandFilter, decimateByTwo } from './decimate.ts';
export {
  cqtDefaults, cqtQ, cqtFrequencies, cqtKernel,
  type CqtKernel, type CqtKernelOptions, type CqtLevel, type SparseKernel, type DenseComplex,
} from './cqt-kernel.ts';
export { cqt, cqtFromSpectrum, cqtHost, type CqtOptions, type KernelDomain } from './cqt.ts';
export { cqtFilterbank, firFilterbank, type CqtFilterbank, type FirFilterbankOptions, type FirPadding } from './fir-filterbank.ts';
export {
  defaultMaxRadius, bandPassBiquad, cqtBandPassBank, biquadFilterHost, biquadPoles, stableParameters, biquadsFromParameters,
  stableDenominator, stableOffsets, biquadArrays, iirFilterbank, stableIirFilterbank, bandEnergies,
  type Biquad, type CqtBandPassBank, type StableParameters, type BandEnergyOptions,
} from './iir-filterbank.ts';
export { identifyBiquad, defaultIdentificationRate, type IdentificationOptions, type Identification } from './iir-identification.ts';
export {
  chromaBins, chromaMatrix, stftChromaMatrix, normalizeFrames, chroma, chromaFromStft,
  type ChromaSpread, type ChromaNorm, type ChromaMatrixOptions, type StftChromaOptions,
} from './chroma.ts';
export { estimateTuning, spectralPeaks, pitchTuning, type TuningOptions, type PitchPeak } from './tuning.ts';
export {
  melDefaults, hzToMel, melToHz, melFrequencies, fftFrequencies, melFilterbank, melFromStft, melSpectrogram, melSpectrogramHost,
  type MelNorm, type MelOptions, type MelFromStftOptions, type MelSpectrogramOptions,
} from './mel.ts';
export { powerToDb, amplitudeToDb, powerToDbHost, type DbOptions } from './decibels.ts';
export {
  mfccDefaults, dctMatrix, mfccFromLogMel, mfcc, mfccFromLogMelHost, mfccHost,
  type DctOptions, type MfccFromLogMelOptions, type MfccOptions,
} from './mfcc.ts';
export { deltaDefaults, savitzkyGolay, delta, deltaHost, type DeltaOptions, type SavitzkyGolay } from './delta.ts';
