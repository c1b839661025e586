import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { lineChart } from '../../reports/line-chart.ts';

describe('line chart', () => {
  const chart = {
    title: 'CPR <by> day & arm',
    x: ['2026-01-01', '2026-01-02', '2026-01-03'],
    yLabel: 'CPR',
    series: [
      { name: 'ml', values: [2, 1.8, 1.7] },
      { name: 'heuristic', values: [2.2, null, 2.1] },
    ],
  };

  it('draws a valid SVG with escaped text, a line per series and a gap for missing values', async () => {
    const svg = lineChart(chart);
    assert.match(svg, /CPR &lt;by&gt; day &amp; arm/);
    const paths = [...svg.matchAll(/<path d="([^"]+)"/g)].map((m) => m[1]!);
    assert.equal(paths.length, 2);
    assert.equal(paths[0]!.split('L').length, 3, 'ml: one stroke through three points');
    assert.equal(paths[1]!.split('M').length - 1, 2, 'heuristic: the gap starts a new stroke');
    const meta = await sharp(Buffer.from(svg)).metadata();
    assert.deepEqual([meta.width, meta.height], [800, 420]);
  });

  it('refuses a chart with nothing to plot', () => {
    assert.throws(
      () => lineChart({ ...chart, series: [{ name: 'x', values: [null, null] }] }),
      /no values to plot/,
    );
  });
});
