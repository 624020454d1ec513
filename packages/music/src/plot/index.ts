// Pictures: SVG figures (heatmaps with titles, axes in the domain's units and colour bars)
// and line charts (training curves), with a PNG rendered from each by resvg, and bare PNG
// heatmaps of matrices.

export type { ColormapName, Rgb } from './colormap.ts';
export { colormapColor } from './colormap.ts';
export type { HeatmapMatrix, HeatmapOptions } from './heatmap.ts';
export { writeHeatmapPng, encodeHeatmapPng } from './heatmap.ts';
export type { Axis, FigureOptions, Tick } from './figure.ts';
export { cqtTicks, heatmapSvg, labelTicks, noteName, noteOfFrequency, pitchClassTicks, renderSvgToPng, timeTicks, writeFigure } from './figure.ts';
export type { CurveEvents, CurveOptions, CurveSeries } from './curve.ts';
export { curveSvg, niceTicks } from './curve.ts';
export type { FigureTiming } from './rhythm-figures.ts';
export { melFigureSvg, onsetFigureSvg } from './rhythm-figures.ts';
