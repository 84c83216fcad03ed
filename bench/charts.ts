/**
 * The page's charts: each {@link Chart} a suite fills becomes a Vega-Lite spec, compiled to Vega by
 * `vega-lite` and drawn to SVG by `vega`'s headless view, in Node, with no browser.
 * @module
 */
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { Chart } from './harness.js';

const WIDTH = 520;
const LINE_HEIGHT = 280;
/** A bar's height; the bar chart grows with its bars. */
const BAR_STEP = 26;
/** Room for a bar's label (px): the labels name a library and a scenario. */
const LABEL_LIMIT = 440;

/** Joins the charts that share a key, in the order they first appear: title, axes and caption from the first. */
export function mergeCharts(charts: readonly Chart[]): Chart[] {
  const byKey = new Map<string, Chart>();
  for (const chart of charts) {
    const known = byKey.get(chart.key);
    byKey.set(chart.key, known === undefined ? chart : { ...known, points: [...known.points, ...chart.points] });
  }
  return [...byKey.values()];
}

/** The Vega-Lite spec of a chart. */
export function specOf(chart: Chart): TopLevelSpec {
  const values = chart.points.map((point) => ({ ...point }));
  const color = {
    field: 'series',
    type: 'nominal',
    title: null,
    legend: { orient: 'bottom', direction: 'vertical', labelLimit: 0 },
  } as const;
  // A linear measured axis starts at 0, so that heights compare; a linear x spans its data only.
  const scale = (log: boolean | undefined, zero = true) => (log === true ? { type: 'log' as const } : { zero });
  const reference = chart.reference;
  // The rule shares the measured axis: the same title, or Vega-Lite would join both titles.
  const refY = { field: 'value', type: 'quantitative', title: chart.y.title } as const;
  const refX = refY;
  if (chart.kind === 'line') {
    // Whole numbers only on a linear x (a concurrency, a count): no tick at 1.5 workers.
    const axis = chart.x.log === true ? {} : { axis: { tickMinStep: 1, format: 'd' } };
    const x = {
      field: 'x',
      type: 'quantitative',
      title: chart.x.title,
      scale: scale(chart.x.log, false),
      ...axis,
    } as const;
    const y = { field: 'y', type: 'quantitative', title: chart.y.title, scale: scale(chart.y.log) } as const;
    return {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: chart.title,
      width: WIDTH,
      height: LINE_HEIGHT,
      background: 'white',
      padding: 12,
      layer: [
        { data: { values }, mark: { type: 'line', point: true }, encoding: { x, y, color } },
        ...(reference === undefined
          ? []
          : [
              {
                data: { values: [reference] },
                layer: [
                  { mark: { type: 'rule', strokeDash: [4, 4], color: 'gray' }, encoding: { y: refY } },
                  {
                    mark: { type: 'text', align: 'right', baseline: 'bottom', dy: -3, x: 'width', color: 'gray' },
                    encoding: { y: refY, text: { field: 'label' } },
                  },
                ],
              } as const,
            ]),
      ],
    } as TopLevelSpec;
  }
  const bars = { field: 'x', type: 'nominal', title: null, sort: null, axis: { labelLimit: LABEL_LIMIT } } as const;
  // On a log scale, room for a label left of the shortest bar: the axis starts a decade below it.
  const least = Math.min(...values.map((point) => point.y), reference?.value ?? Infinity);
  const room =
    chart.y.log === true && Number.isFinite(least) ? { domainMin: 10 ** Math.floor(Math.log10(least) - 1) } : {};
  const value = {
    field: 'y',
    type: 'quantitative',
    title: chart.y.title,
    scale: { ...scale(chart.y.log), ...room },
  } as const;
  // Bars start at the reference (a ratio's parity), not at 0, which a log scale does not have.
  const base = reference === undefined ? {} : { x2: { datum: reference.value } };
  // A bar's figure sits at its tip: left of a bar that ends below the reference, right of one above;
  // three significant digits, so that 1/235 reads 0.00426 rather than 0.00.
  const tip = (side: 'below' | 'above') => ({
    data: { values },
    transform:
      reference === undefined ? [] : [{ filter: `datum.y ${side === 'below' ? '<' : '>='} ${reference.value}` }],
    mark: { type: 'text', align: side === 'below' ? 'right' : 'left', dx: side === 'below' ? -4 : 4 },
    encoding: { y: bars, x: value, text: { field: 'y', type: 'quantitative', format: '.3~g' } },
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: chart.title, offset: 18 },
    width: WIDTH - 120,
    height: { step: BAR_STEP },
    background: 'white',
    padding: 12,
    layer: [
      { data: { values }, mark: 'bar', encoding: { y: bars, x: value, ...base, color } },
      tip('below'),
      ...(reference === undefined ? [] : [tip('above')]),
      ...(reference === undefined
        ? []
        : [
            {
              data: { values: [reference] },
              layer: [
                { mark: { type: 'rule', strokeDash: [4, 4], color: 'gray' }, encoding: { x: refX } },
                {
                  mark: { type: 'text', align: 'center', baseline: 'bottom', dy: -3, y: 0, color: 'gray' },
                  encoding: { x: refX, text: { field: 'label' } },
                },
              ],
            } as const,
          ]),
    ],
  } as TopLevelSpec;
}

/** Draws a chart to an SVG document. */
export async function renderSvg(chart: Chart): Promise<string> {
  const view = new View(parse(compile(specOf(chart)).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
