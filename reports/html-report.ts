// The `adloop report` page: one self-contained HTML file (inline CSS, inline SVG charts, images as
// data: URIs, no scripts, no external requests, enforced by its own Content-Security-Policy), so it
// can be mailed, archived or opened offline and shows the same thing everywhere.
// Pure: the data comes from reports/collect.ts, the images from the creative store.
import { dateRange } from '../core/dates.ts';
import { escapeXml } from '../core/xml.ts';
import { PER_THOUSAND, armReport, type ArmDay, type ArmStats, type Interval } from './arms.ts';
import { lineChart, type Series } from './line-chart.ts';
import {
  conversions,
  totalDelivery,
  type Delivery,
  type ReportData,
  type ReportLiveAd,
  type ReportRanking,
} from './report-data.ts';

const esc = (v: string | number) => escapeXml(String(v));

/** Only embedded raster images: anything else could make the page fetch or run something. */
const DATA_IMAGE = /^data:image\/(jpeg|png|webp);base64,[A-Za-z0-9+/=]+$/;

/** Reasons shown per ranked item before the rest fold away. */
const REASONS_SHOWN = 6;

const CSS = `
:root{--fg:#1d1d1f;--muted:#6e6e73;--line:#e3e3e6;--pos:#1b9e77;--neg:#d95f02;--bg:#fafafa}
*{box-sizing:border-box}
body{font-family:'Noto Sans',system-ui,-apple-system,'Segoe UI',sans-serif;color:var(--fg);background:var(--bg);margin:0;line-height:1.4}
header,main,footer{max-width:1180px;margin:0 auto;padding:0 24px}
header{padding-top:24px}h1{margin:0 0 4px;font-size:26px}
.sub{color:var(--muted);margin:0 0 12px}
nav a{margin-right:14px;color:#3a5bc7;text-decoration:none}
section{margin:28px 0 36px}h2{border-bottom:1px solid var(--line);padding-bottom:6px;font-size:20px}
h3{font-size:16px;margin:22px 0 8px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:10px}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:10px 12px}
.card .k{color:var(--muted);font-size:12px}.card .v{font-size:20px;font-weight:600}
table{border-collapse:collapse;background:#fff;width:100%;font-size:13px}
th,td{border-bottom:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:top}
th{color:var(--muted);font-weight:600}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:14px}
figure{margin:0}.chart{background:#fff;border:1px solid var(--line);border-radius:8px;padding:6px}
.chart svg{width:100%;height:auto;display:block}
.chart figcaption{color:var(--muted);font-size:12px;padding:2px 6px 4px}
.empty{color:var(--muted);font-style:italic;background:#fff;border:1px dashed var(--line);border-radius:8px;padding:14px}
.note{color:var(--muted);font-size:12px}
.tag{display:inline-block;border-radius:10px;padding:0 7px;font-size:11px;background:#eee;margin-right:4px}
.tag.explore{background:#efe6ff;color:#5b2bb5}.tag.exploit{background:#e6f4ef;color:#13684f}
.tag.approved{background:#e6f4ef;color:#13684f}.tag.pending{background:#fff4d6;color:#8a5a00}
.tag.rejected{background:#ffe3e0;color:#a4261b}
.reason{display:grid;grid-template-columns:150px 220px 70px;align-items:center;gap:6px;font-size:12px}
.reason .name{overflow:hidden;text-overflow:ellipsis;white-space:nowrap;color:var(--muted)}
.bar{display:grid;grid-template-columns:1fr 1fr;height:10px;border-left:0}
.bar .l{display:flex;justify-content:flex-end;border-right:1px solid #999}.bar .r{display:flex}
.bar .neg{background:var(--neg);height:10px}.bar .pos{background:var(--pos);height:10px}
.reason .v{text-align:right;font-variant-numeric:tabular-nums}
details summary{cursor:pointer;color:var(--muted);font-size:12px}
.gallery{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:14px}
.creative{background:#fff;border:1px solid var(--line);border-radius:8px;overflow:hidden}
.creative img{width:100%;height:auto;display:block;background:#222}
.creative .noimg{aspect-ratio:1;display:flex;align-items:center;justify-content:center;background:#eee;color:var(--muted)}
.creative figcaption{padding:8px 10px;font-size:12px}.creative .t{font-weight:600;font-size:13px}
.creative ul{list-style:none;margin:6px 0 0;padding:0}.creative li{margin:4px 0}
.creative code.id{display:block;font-size:11px;color:var(--muted);word-break:break-all}
footer{color:var(--muted);font-size:12px;padding-bottom:32px}
`;

const fmtInt = (v: number) => Math.round(v).toLocaleString('en-US');
const fmtMoney = (v: number | null, currency: string) =>
  v === null
    ? '–'
    : `${v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} ${currency}`;
const fmtPct = (v: number | null) => (v === null ? '–' : `${(100 * v).toFixed(2)}%`);
const fmtSigned = (v: number) =>
  `${v < 0 ? '−' : '+'}${Math.abs(v) >= 100 ? Math.abs(v).toFixed(0) : Math.abs(v).toPrecision(3)}`;

function card(label: string, value: string, hook: string): string {
  return `<div class="card" data-total="${esc(hook)}"><div class="k">${esc(label)}</div><div class="v">${esc(value)}</div></div>`;
}

function empty(what: string, message: string): string {
  return `<p class="empty" data-empty="${esc(what)}">${esc(message)}</p>`;
}

interface ChartSpec {
  id: string;
  title: string;
  yLabel: string;
  caption: string;
  x: string[];
  series: Series[];
  /** Said instead of a chart when no series has a value. */
  emptyMessage: string;
}

function chart(c: ChartSpec): string {
  const hasValue = c.series.some((s) => s.values.some((v) => v !== null && Number.isFinite(v)));
  const body = hasValue
    ? lineChart({
        title: c.title,
        x: c.x,
        yLabel: c.yLabel,
        series: c.series,
        width: 640,
        height: 340,
        markers: true,
      })
    : empty(`chart-${c.id}`, c.emptyMessage);
  return `<figure class="chart" data-chart="${esc(c.id)}" data-series-count="${c.series.length}">${body}<figcaption>${esc(c.caption)}</figcaption></figure>`;
}

/** Per-day values of one metric for each key (a market or an arm); null where nothing ran. */
function seriesBy<T extends Delivery & { date: string }>(
  rows: readonly T[],
  keys: readonly string[],
  keyOf: (r: T) => string | null,
  dates: readonly string[],
  value: (d: T) => number | null,
): Series[] {
  return keys.map((k) => {
    const byDate = new Map(rows.filter((r) => keyOf(r) === k).map((r) => [r.date, r]));
    return {
      name: k,
      values: dates.map((d) => {
        const r = byDate.get(d);
        return r ? value(r) : null;
      }),
    };
  });
}

function summary(data: ReportData): string {
  const t = totalDelivery(data.days);
  const cur = data.currency;
  const cards = [
    card('Spend', fmtMoney(t.spend, cur), 'spend'),
    card('Impressions', fmtInt(t.impressions), 'impressions'),
    card('Clicks', fmtInt(t.clicks), 'clicks'),
    card('CTR', fmtPct(t.ctr), 'ctr'),
    card('Registrations', fmtInt(t.registrations), 'registrations'),
    card('CPR', fmtMoney(t.cpr, cur), 'cpr'),
    card('Subscriptions', fmtInt(t.subscriptions), 'subscriptions'),
    card('Cost per subscription', fmtMoney(t.cps, cur), 'cps'),
    card('Markets', String(data.markets.length), 'markets'),
    card('Live ads', String(data.liveAds.length), 'live-ads'),
  ].join('');
  const perMarket = data.markets
    .map((market) => {
      const rows = data.days.filter((d) => d.market === market);
      const m = totalDelivery(rows);
      const arms = [...new Set(rows.map((d) => d.arm ?? 'none'))].sort().join(', ');
      return (
        `<tr data-market="${esc(market)}"><td>${esc(market)}</td><td>${esc(arms || '–')}</td>` +
        `<td class="n">${rows.length}</td><td class="n">${esc(fmtMoney(m.spend, cur))}</td>` +
        `<td class="n">${esc(fmtInt(m.impressions))}</td><td class="n">${esc(fmtInt(m.clicks))}</td>` +
        `<td class="n">${esc(fmtPct(m.ctr))}</td><td class="n">${esc(fmtInt(m.registrations))}</td>` +
        `<td class="n">${esc(fmtMoney(m.cpr, cur))}</td></tr>`
      );
    })
    .join('');
  const table = data.days.length
    ? `<h3>Per market</h3><table data-table="markets"><thead><tr><th>Market</th><th>Arm</th><th class="n">Days</th><th class="n">Spend</th><th class="n">Impressions</th><th class="n">Clicks</th><th class="n">CTR</th><th class="n">Registrations</th><th class="n">CPR</th></tr></thead><tbody>${perMarket}</tbody></table>`
    : empty(
        'delivery',
        `No delivery between ${data.from} and ${data.to} yet: the platforms report a day once ads have run (npm start runs the loop).`,
      );
  return `<section id="summary" data-section="summary"><h2>Summary</h2><div class="cards">${cards}</div>${table}</section>`;
}

function marketCharts(data: ReportData, dates: string[]): string {
  if (data.days.length === 0)
    return `<section id="charts" data-section="charts"><h2>Per day and market</h2>${empty('charts', 'Nothing to plot yet: no delivery in this range.')}</section>`;
  const markets = [...new Set(data.days.map((d) => d.market))].sort();
  const s = (value: (d: Delivery) => number | null) =>
    seriesBy(data.days, markets, (d) => d.market, dates, value);
  const charts = [
    chart({
      id: 'cpr-by-market',
      title: 'Cost per registration by market',
      yLabel: `CPR (${data.currency})`,
      caption:
        'Spend per registration each day, one line per market; a gap is a day without registrations.',
      x: dates,
      series: s((d) => d.cpr),
      emptyMessage: 'No registrations yet: cost per registration is not defined.',
    }),
    chart({
      id: 'ctr-by-market',
      title: 'Click-through rate by market',
      yLabel: 'CTR (%)',
      caption: 'Clicks per impression each day, one line per market.',
      x: dates,
      series: s((d) => (d.ctr === null ? null : 100 * d.ctr)),
      emptyMessage: 'No impressions yet.',
    }),
    chart({
      id: 'registrations-by-market',
      title: 'Registrations by market',
      yLabel: 'registrations',
      caption: 'Registrations the platforms reported each day, one line per market.',
      x: dates,
      series: s((d) => d.registrations),
      emptyMessage: 'No delivery yet.',
    }),
  ];
  return `<section id="charts" data-section="charts"><h2>Per day and market</h2><div class="charts">${charts.join('')}</div></section>`;
}

/**
 * Budgets the allocator set: each market's daily budget over its platforms, per day, and the
 * latest day's budget per market and platform with the reason for each change.
 */
function budgetSection(data: ReportData): string {
  const head = '<h2>Budgets</h2>';
  const budgets = data.budgets ?? [];
  if (budgets.length === 0)
    return `<section id="budgets" data-section="budgets">${head}${empty('budgets', 'No budget allocation in this range: every ad set runs on its fixed budget (set dailyBudget in the accounts file to allocate).')}</section>`;
  const dates = dateRange(budgets[0]!.date, budgets.at(-1)!.date);
  const markets = [...new Set(budgets.map((b) => b.market))].sort();
  const totals = new Map<string, number>();
  for (const b of budgets)
    totals.set(`${b.date}/${b.market}`, (totals.get(`${b.date}/${b.market}`) ?? 0) + b.budget);
  const plot = chart({
    id: 'budget-by-market',
    title: 'Daily budget by market',
    yLabel: `budget (${data.currency})`,
    caption:
      'What the allocator gave each market per day over every platform: money moves toward the markets where the next registration is cheapest, at most the daily change limit at a time.',
    x: dates,
    series: markets.map((m) => ({
      name: m,
      values: dates.map((d) => totals.get(`${d}/${m}`) ?? null),
    })),
    emptyMessage: 'No budgets to plot.',
  });
  const f = (v: number) => fmtMoney(v, data.currency);
  const change = (b: (typeof budgets)[number]) =>
    b.previous === null || b.previous === 0
      ? 'new'
      : `${b.budget >= b.previous ? '+' : ''}${(((b.budget - b.previous) / b.previous) * 100).toFixed(0)}%`;
  // Every change of every day, newest first; unchanged budgets are left out past the last day.
  const last = budgets.at(-1)!.date;
  const rows = budgets
    .filter(
      (b) => b.date === last || b.previous === null || Math.abs(b.budget - b.previous) >= 0.005,
    )
    .sort(
      (a, b) =>
        b.date.localeCompare(a.date) ||
        a.market.localeCompare(b.market) ||
        a.platform.localeCompare(b.platform),
    )
    .map(
      (b) =>
        `<tr data-budget="${esc(`${b.date}/${b.market}/${b.platform}`)}"><td>${esc(b.date)}</td><td>${esc(b.market)}</td><td>${esc(b.platform)}</td><td class="n">${esc(f(b.budget))}</td><td class="n">${esc(change(b))}</td><td class="n">${esc(b.marginalCost === null ? '–' : f(b.marginalCost))}</td><td>${b.exploring ? 'exploring' : ''}</td><td>${esc(b.reason)}</td></tr>`,
    )
    .join('');
  const table = `<table class="budgets"><thead><tr><th>day</th><th>market</th><th>platform</th><th>budget</th><th>change</th><th>next result costs</th><th></th><th>why</th></tr></thead><tbody>${rows}</tbody></table>`;
  return `<section id="budgets" data-section="budgets">${head}<p class="note">Budget per market and day from the allocator, with the reason for each change (the latest day's every budget, earlier days' changes only).</p><div class="charts">${plot}</div>${table}</section>`;
}

function interval(i: Interval | null, f: (v: number) => string): string {
  if (!i) return '–';
  return i.low === null || i.high === null
    ? f(i.value)
    : `${f(i.value)} <span class="note">[${f(i.low)}, ${f(i.high)}]</span>`;
}

function armSection(data: ReportData, dates: string[]): string {
  const head = '<h2>ML against heuristic</h2>';
  if (data.armDays.length === 0)
    return `<section id="arms" data-section="arms">${head}${empty('arms', 'No delivery under a ranking yet: nothing to compare.')}${challengerTable(data)}</section>`;
  const objective = data.objective;
  const armDays: ArmDay[] = data.days
    .filter((d) => d.arm !== null)
    .map((d) => ({
      arm: d.arm!,
      market: d.market,
      date: d.date,
      spend: d.spend,
      impressions: d.impressions,
      clicks: d.clicks,
      conversions: conversions(d, objective),
    }));
  const stats: ArmStats[] = armReport(armDays);
  const money = (v: number) => v.toFixed(2);
  const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
  const costName = objective === 'subscriptions' ? 'Cost per subscription' : 'CPR';
  const rows = stats
    .map(
      (s) =>
        `<tr data-arm="${esc(s.arm)}"><td>${esc(s.arm)}</td><td>${esc(s.markets.join(', '))}</td>` +
        `<td class="n">${s.marketDays}</td><td class="n">${esc(fmtMoney(s.spend, data.currency))}</td>` +
        `<td class="n">${esc(fmtInt(s.conversions))}</td>` +
        `<td class="n">${interval(s.cpr, (v) => esc(money(v)))}</td>` +
        `<td class="n">${interval(s.ctr, (v) => esc(pct(v)))}</td></tr>`,
    )
    .join('');
  const table =
    `<table data-table="arms"><thead><tr><th>Arm</th><th>Markets</th><th class="n">Market-days</th><th class="n">Spend</th>` +
    `<th class="n">${esc(objective === 'subscriptions' ? 'Subscriptions' : 'Registrations')}</th>` +
    `<th class="n">${esc(costName)} (${esc(data.currency)}, 95% CI)</th><th class="n">CTR (95% CI)</th></tr></thead><tbody>${rows}</tbody></table>` +
    `<p class="note">Intervals are over market-days. Arms are split by market, so a gap between arms mixes the policy with the markets' own differences; read it as causal only when the arms run on comparable markets. Days a market fell back to the heuristic count under the heuristic.</p>`;
  const arms = stats.map((s) => s.arm);
  const alone =
    arms.length === 1
      ? `<p class="note" data-note="one-arm">Only the ${esc(arms[0]!)} arm delivered in this range, so there is nothing to compare it with yet${arms[0] === 'heuristic' ? ' (markets on the ML arm rank with the heuristic until a model has been trained and promoted)' : ''}.</p>`
      : '';
  const s = (value: (d: Delivery) => number | null) =>
    seriesBy(data.armDays, arms, (d) => d.arm, dates, value);
  const charts = [
    chart({
      id: 'cpr-by-arm',
      title: 'Cost per registration by arm',
      yLabel: `CPR (${data.currency})`,
      caption: "Spend per registration each day over each arm's markets.",
      x: dates,
      series: s((d) => d.cpr),
      emptyMessage: 'No registrations yet: cost per registration is not defined.',
    }),
    chart({
      id: 'ctr-by-arm',
      title: 'Click-through rate by arm',
      yLabel: 'CTR (%)',
      caption: "Clicks per impression each day over each arm's markets.",
      x: dates,
      series: s((d) => (d.ctr === null ? null : 100 * d.ctr)),
      emptyMessage: 'No impressions yet.',
    }),
    chart({
      id: 'registrations-by-arm',
      title: 'Registrations by arm',
      yLabel: 'registrations',
      caption: "Registrations each day, summed over each arm's markets.",
      x: dates,
      series: s((d) => d.registrations),
      emptyMessage: 'No delivery yet.',
    }),
  ];
  return `<section id="arms" data-section="arms">${head}${table}${alone}<div class="charts">${charts.join('')}</div>${challengerTable(data)}</section>`;
}

/** Each challenger's off-policy evidence: what it would have earned where other policies ranked. */
function challengerTable(data: ReportData): string {
  if (data.challengers.length === 0) return '';
  const unit = data.objective === 'subscriptions' ? 'Subscriptions' : 'Registrations';
  const f = (v: number) => esc((v * PER_THOUSAND).toFixed(2));
  const rows = data.challengers
    .map(
      (c) =>
        `<tr data-model="${esc(c.model)}"><td>${esc(c.model)}</td><td>${esc(c.trainingTo)}</td>` +
        `<td><span class="tag">${esc(c.status)}</span></td><td class="n">${c.marketDays}</td>` +
        `<td class="n">${interval(c.logged, f)}</td><td class="n">${interval(c.ips, f)}</td>` +
        `<td class="n">${interval(c.snips, f)}</td><td class="n" data-estimate="dr">${interval(c.dr, f)}</td></tr>`,
    )
    .join('');
  return (
    `<h3>Challengers, estimated off-policy</h3>` +
    `<table data-table="challengers"><thead><tr><th>Model</th><th>Trained to</th><th>Status</th><th class="n">Market-days</th>` +
    `<th class="n">What ran</th><th class="n">IPS</th><th class="n">SNIPS</th><th class="n">Doubly robust (95% CI)</th></tr></thead><tbody>${rows}</tbody></table>` +
    `<p class="note">${esc(unit)} per ${PER_THOUSAND.toLocaleString('en')} ${esc(data.currency)} of spend that each newly trained model would have earned on its held-out market-days, estimated from what ran there and the probabilities the rankings logged. IPS and SNIPS see only creatives the logging policy could have picked; the doubly robust estimate adds the model's own predictions and is what promotion reads: a challenger whose whole interval lies below what ran is not promoted.</p>`
  );
}

function reasonRow(name: string, value: number, scale: number): string {
  const width = (v: number) => (scale > 0 ? Math.min(100, (100 * Math.abs(v)) / scale) : 0);
  const neg = value < 0 ? width(value) : 0;
  const pos = value > 0 ? width(value) : 0;
  return (
    `<div class="reason" data-reason="${esc(name)}" data-value="${esc(value)}"><span class="name" title="${esc(name)}">${esc(name)}</span>` +
    `<span class="bar"><span class="l"><span class="neg" style="width:${neg.toFixed(1)}%"></span></span>` +
    `<span class="r"><span class="pos" style="width:${pos.toFixed(1)}%"></span></span></span>` +
    `<span class="v">${esc(fmtSigned(value))}</span></div>`
  );
}

function rankingBlock(r: ReportRanking): string {
  // One scale per market, so bars compare across its rows.
  const scale = Math.max(
    0,
    ...r.items.flatMap((i) => Object.values(i.reasons).map((v) => Math.abs(v))),
  );
  const rows = r.items
    .map((i) => {
      const reasons = Object.entries(i.reasons)
        .filter(([, v]) => Number.isFinite(v))
        .sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]) || a[0].localeCompare(b[0]));
      const shown = reasons.slice(0, REASONS_SHOWN).map(([k, v]) => reasonRow(k, v, scale));
      const rest = reasons.slice(REASONS_SHOWN).map(([k, v]) => reasonRow(k, v, scale));
      const more = rest.length
        ? `<details><summary>${rest.length} more</summary>${rest.join('')}</details>`
        : '';
      return (
        `<tr data-rank="${i.rank}"><td class="n">${i.rank}</td>` +
        `<td>${esc(i.artistName)}<div class="note">${esc(i.artistId)}</div></td><td>${esc(i.templateId)}</td>` +
        `<td class="n">${esc(i.score.toPrecision(4))}</td>` +
        `<td><span class="tag ${i.selection}">${i.selection}</span><div class="note">p = ${esc(i.propensity.toFixed(3))}</div></td>` +
        `<td>${shown.join('') || '<span class="note">none recorded</span>'}${more}</td></tr>`
      );
    })
    .join('');
  const facts = [
    r.date,
    `policy ${r.policy}`,
    r.source === 'computed' ? 'computed' : `${r.source}${r.basedOn ? ` (from ${r.basedOn})` : ''}`,
    ...(r.modelVersion ? [`model ${r.modelVersion}`] : []),
    r.itemCount > r.items.length
      ? `top ${r.items.length} of ${r.itemCount} items`
      : `${r.itemCount} items`,
  ];
  return (
    `<article class="ranking" data-market="${esc(r.market)}" data-policy="${esc(r.policy)}"><h3>${esc(r.market)} <span class="note">${esc(facts.join(' · '))}</span></h3>` +
    (r.items.length
      ? `<table><thead><tr><th class="n">Rank</th><th>Artist</th><th>Template</th><th class="n">Score</th><th>Selection</th><th>Why: each feature's contribution (green raises the score, orange lowers it)</th></tr></thead><tbody>${rows}</tbody></table>`
      : empty(`ranking-${r.market}`, 'This ranking has no items.')) +
    '</article>'
  );
}

function rankings(data: ReportData): string {
  const body = data.rankings.length
    ? data.rankings.map(rankingBlock).join('')
    : empty('rankings', `No market was ranked between ${data.from} and ${data.to}.`);
  return `<section id="rankings" data-section="rankings"><h2>Ranked lists</h2><p class="note">Each market's latest ranking in the range: what it would deploy, in order, and why.</p>${body}</section>`;
}

function creativeCard(ads: ReportLiveAd[], images: ReadonlyMap<string, string>): string {
  const a = ads[0]!;
  const src = images.get(a.creativeHash);
  const title = `${a.artistName ?? a.artistId ?? 'unknown artist'} × ${a.templateId ?? 'unknown template'}`;
  const media =
    src !== undefined && DATA_IMAGE.test(src)
      ? `<img data-creative="${esc(a.creativeHash)}" src="${esc(src)}" alt="${esc(title)}">`
      : `<div class="noimg" data-creative-missing="${esc(a.creativeHash)}">no still available</div>`;
  const placements = ads
    .map((ad) => {
      const review = ad.reviewStatus ?? 'unknown';
      return (
        `<li data-platform="${esc(ad.platform)}" data-ad-id="${esc(ad.adId)}"><span class="tag">${esc(ad.platform)}</span>` +
        `<span class="tag ${esc(review)}">${esc(review)}</span><code class="id">${esc(ad.adId)}</code>` +
        (ad.reviewReason ? `<div class="note">${esc(ad.reviewReason)}</div>` : '') +
        '</li>'
      );
    })
    .join('');
  return (
    `<figure class="creative" data-creative-card="${esc(a.creativeHash)}" data-market="${esc(a.market)}">${media}` +
    `<figcaption><div class="t">${esc(title)}</div><div class="note">${esc(
      [a.language, a.stillRatio, a.creativeHash.slice(0, 12)].filter(Boolean).join(' · '),
    )}</div><ul>${placements}</ul></figcaption></figure>`
  );
}

function gallery(data: ReportData, images: ReadonlyMap<string, string>): string {
  const head = '<h2>Live creatives</h2>';
  if (data.liveAds.length === 0)
    return `<section id="gallery" data-section="gallery">${head}${empty('gallery', 'No ads are live.')}</section>`;
  const markets = [...new Set(data.liveAds.map((a) => a.market))].sort();
  const body = markets
    .map((market) => {
      // One card per creative: the same creative runs on several platforms.
      const byHash = new Map<string, ReportLiveAd[]>();
      for (const ad of data.liveAds.filter((a) => a.market === market))
        byHash.set(ad.creativeHash, [...(byHash.get(ad.creativeHash) ?? []), ad]);
      return `<h3 data-market="${esc(market)}">${esc(market)}</h3><div class="gallery" data-market="${esc(market)}">${[
        ...byHash.values(),
      ]
        .map((ads) => creativeCard(ads, images))
        .join('')}</div>`;
    })
    .join('');
  return `<section id="gallery" data-section="gallery">${head}<p class="note">Ads running now on each platform, with the platform's review status.</p>${body}</section>`;
}

/**
 * The report as one HTML document. `images` maps a creative hash to a `data:image/...;base64,`
 * URI of its still; creatives without one get a placeholder.
 */
export function reportHtml(data: ReportData, images: ReadonlyMap<string, string>): string {
  const deliveryDates = data.days.map((d) => d.date).sort();
  // The x axis spans the days with delivery, not the whole requested range.
  const dates = deliveryDates.length ? dateRange(deliveryDates[0]!, deliveryDates.at(-1)!) : [];
  const title = `adloop report · ${data.from} – ${data.to}`;
  const objective = data.objective === 'subscriptions' ? 'subscriptions' : 'registrations';
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    // Self-contained by construction, and the browser holds it to that.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(title)}</title><style>${CSS}</style></head><body>`,
    `<header><h1>adloop report</h1><p class="sub">${esc(
      `${data.from} – ${data.to} · money in ${data.currency} · arms compared on ${objective} · read ${data.generatedAt}`,
    )}</p><nav><a href="#summary">Summary</a><a href="#charts">Per market</a><a href="#budgets">Budgets</a><a href="#arms">ML vs heuristic</a><a href="#rankings">Ranked lists</a><a href="#gallery">Live creatives</a></nav></header>`,
    '<main>',
    summary(data),
    marketCharts(data, dates),
    budgetSection(data),
    armSection(data, dates),
    rankings(data),
    gallery(data, images),
    '</main>',
    `<footer>Made by adloop from its database: delivery as the ad platforms reported it, money converted into ${esc(data.currency)} with the configured exchange-rate table.</footer>`,
    '</body></html>',
    '',
  ].join('\n');
}
