// essentia.js 0.1.3 ships no types; rhythm-features.ts describes the part it calls (EssentiaJs there).
declare module 'essentia.js';
