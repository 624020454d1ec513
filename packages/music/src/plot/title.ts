// Where a figure's title goes: centred over the plot area, unless it is wider than the
// figure would be; then the figure widens to hold it and the title is centred on it.
// The width is estimated (bold 15 px DejaVu Sans: about 9.2 px per character), since an
// SVG is written without measuring text.

const titleCharacterWidth = 9.2;

/** The figure's total width and the title's centre x. */
export function placeTitle(title: string, plotLeft: number, plotWidth: number, figureWidth: number): { totalWidth: number; x: number } {
  const needed = Math.ceil(titleCharacterWidth * title.length) + 24;
  const centre = plotLeft + plotWidth / 2;
  if (centre - needed / 2 >= 0 && centre + needed / 2 <= figureWidth) return { totalWidth: figureWidth, x: centre };
  const totalWidth = Math.max(figureWidth, needed);
  return { totalWidth, x: totalWidth / 2 };
}
