// A self-contained SVG line chart: no dependencies, readable in any browser or image viewer, and
// embeddable in an HTML report as is.
import { escapeXml } from '../core/xml.ts';

export interface Series {
  name: string;
  values: ReadonlyArray<number | null>;
}

export interface LineChart {
  title: string;
  /** One label per x position (e.g. dates); only some are printed. */
  x: readonly string[];
  yLabel: string;
  series: readonly Series[];
  width?: number;
  height?: number;
  /** A dot on every value, so a lone day between gaps still shows. Default false. */
  markers?: boolean;
}

const COLOURS = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e', '#e6ab02', '#a6761d'];

/** A "nice" step (1, 2 or 5 times a power of ten) giving about `ticks` intervals over `span`. */
function niceStep(span: number, ticks: number): number {
  const raw = span / ticks;
  const p = 10 ** Math.floor(Math.log10(raw));
  return ([1, 2, 5, 10].find((m) => m * p >= raw) ?? 10) * p;
}

export function lineChart(c: LineChart): string {
  const w = c.width ?? 800;
  const h = c.height ?? 420;
  const m = { left: 64, right: 150, top: 40, bottom: 48 };
  const values = c.series.flatMap((s) =>
    s.values.filter((v): v is number => v !== null && Number.isFinite(v)),
  );
  if (values.length === 0) throw new Error(`chart "${c.title}" has no values to plot`);
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (hi === lo) [lo, hi] = [lo - 1, hi + 1];
  const step = niceStep(hi - lo, 5);
  lo = Math.floor(lo / step) * step;
  hi = Math.ceil(hi / step) * step;
  const n = Math.max(2, c.x.length);
  const px = (i: number) => m.left + ((w - m.left - m.right) * i) / (n - 1);
  const py = (v: number) => m.top + ((h - m.top - m.bottom) * (hi - v)) / (hi - lo);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif" font-size="12">`,
    `<rect width="${w}" height="${h}" fill="#fff"/>`,
    `<text x="${m.left}" y="24" font-size="15" font-weight="bold">${escapeXml(c.title)}</text>`,
  ];
  for (let v = lo; v <= hi + step / 2; v += step) {
    const y = py(v).toFixed(1);
    out.push(
      `<line x1="${m.left}" x2="${w - m.right}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`,
      `<text x="${m.left - 8}" y="${y}" dy="4" text-anchor="end">${+v.toFixed(6)}</text>`,
    );
  }
  const every = Math.max(1, Math.ceil(c.x.length / 8));
  c.x.forEach((label, i) => {
    if (i % every === 0) {
      out.push(
        `<text x="${px(i).toFixed(1)}" y="${h - m.bottom + 18}" text-anchor="middle">${escapeXml(label)}</text>`,
      );
    }
  });
  out.push(
    `<text transform="translate(16 ${(m.top + h - m.bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(c.yLabel)}</text>`,
  );
  c.series.forEach((s, k) => {
    const colour = COLOURS[k % COLOURS.length]!;
    // A gap (null) breaks the line rather than drawing through it.
    let d = '';
    let pen = false;
    s.values.forEach((v, i) => {
      if (v === null || !Number.isFinite(v)) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${px(i).toFixed(1)},${py(v).toFixed(1)}`;
      pen = true;
    });
    out.push(
      `<path d="${d}" fill="none" stroke="${colour}" stroke-width="2" data-series="${escapeXml(s.name)}"/>`,
    );
    if (c.markers) {
      s.values.forEach((v, i) => {
        if (v !== null && Number.isFinite(v))
          out.push(
            `<circle cx="${px(i).toFixed(1)}" cy="${py(v).toFixed(1)}" r="3" fill="${colour}"/>`,
          );
      });
    }
    const ly = m.top + 18 * k;
    out.push(
      `<line x1="${w - m.right + 12}" x2="${w - m.right + 32}" y1="${ly}" y2="${ly}" stroke="${colour}" stroke-width="3"/>`,
      `<text x="${w - m.right + 38}" y="${ly}" dy="4">${escapeXml(s.name)}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n');
}
