// The report's HTML, CSV and JSON from crafted data: escaping, empty data, one chart series per
// market and arm, signed reason bars, embedded images only, CSV quoting that a CSV parser reads
// back as written.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { reportHtml } from '../../reports/html-report.ts';
import {
  emptyDelivery,
  totalDelivery,
  withRates,
  type ReportData,
  type ReportDay,
} from '../../reports/report-data.ts';
import {
  csvField,
  REPORT_CSV_COLUMNS,
  reportCsv,
  reportJson,
} from '../../reports/report-export.ts';

const EVIL = '<script>alert("x")</script> & Co';
const PIXEL =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

function day(
  date: string,
  market: string,
  arm: string | null,
  spend: number,
  registrations: number,
): ReportDay {
  return withRates({
    ...emptyDelivery(),
    date,
    market,
    arm,
    spend,
    impressions: 10_000,
    clicks: 150 + registrations,
    registrations,
    subscriptions: Math.floor(registrations / 10),
  });
}

function crafted(): ReportData {
  const days = [
    day('2026-03-01', 'SE', 'ml', 100, 50),
    day('2026-03-01', 'DE', 'ml', 120, 40),
    day('2026-03-01', 'EG', 'heuristic', 80, 0), // no registrations: a gap in CPR
    day('2026-03-02', 'SE', 'ml', 110, 55),
    day('2026-03-02', 'DE', 'ml', 115, 45),
    day('2026-03-02', 'EG', 'heuristic', 90, 60),
    day('2026-03-03', 'SE', 'ml', 105, 52),
    day('2026-03-03', 'EG', 'heuristic', 85, 58),
  ];
  const armDays = ['2026-03-01', '2026-03-02', '2026-03-03'].flatMap((date) =>
    ['heuristic', 'ml'].map((arm) => {
      const mine = days.filter((d) => d.date === date && d.arm === arm);
      return { date, arm, markets: mine.map((d) => d.market).sort(), ...totalDelivery(mine) };
    }),
  );
  return {
    version: 1,
    from: '2026-03-01',
    to: '2026-03-03',
    generatedAt: '2026-03-04T06:00:00.000Z',
    currency: 'EUR',
    objective: 'registrations',
    markets: ['DE', 'EG', 'SE'],
    days,
    armDays,
    challengers: [
      {
        model: 'rank-xgb@7',
        trainingTo: '2026-03-02',
        status: 'retired',
        marketDays: 9,
        logged: { value: 0.004, low: 0.0035, high: 0.0045 },
        ips: { value: 0.0031, low: 0.002, high: 0.0042 },
        snips: { value: 0.0036, low: 0.003, high: 0.0042 },
        dr: { value: 0.0042, low: 0.0038, high: 0.0046 },
      },
    ],
    rankings: [
      {
        market: 'SE',
        date: '2026-03-03',
        policy: 'ml',
        source: 'computed',
        basedOn: null,
        modelVersion: '7',
        itemCount: 40,
        items: [
          {
            rank: 1,
            artistId: 'a01',
            artistName: EVIL,
            templateId: 'spotlight',
            score: 0.91,
            selection: 'exploit',
            propensity: 0.98,
            reasons: { popularity: 0.4, relCpr: -0.2, 'a<b': 0.1, diversity: 0.05 },
          },
          {
            rank: 2,
            artistId: 'a02',
            artistName: 'Nova Moreau',
            templateId: 'duotone',
            score: 0.7,
            selection: 'explore',
            propensity: 0.21,
            reasons: Object.fromEntries(
              Array.from({ length: 9 }, (_, i) => [`f${i}`, (i - 4) / 10]),
            ),
          },
        ],
      },
      {
        market: 'EG',
        date: '2026-03-02',
        policy: 'heuristic',
        source: 'fallback-previous',
        basedOn: '2026-03-01',
        modelVersion: null,
        itemCount: 1,
        items: [
          {
            rank: 1,
            artistId: 'a03',
            artistName: 'ليلى النجار',
            templateId: 'playlist',
            score: 0.5,
            selection: 'exploit',
            propensity: 1,
            reasons: { popularity: 0.5, registrationShare: 0.3, diversity: 0.2 },
          },
        ],
      },
    ],
    liveAds: [
      {
        platform: 'meta',
        market: 'SE',
        adId: '1201',
        adName: 'adloop/SE/default/ad/2026-03-01/hash-one',
        creativeHash: 'hash-one',
        artistId: 'a01',
        artistName: EVIL,
        templateId: 'spotlight',
        language: 'sv',
        stillKey: 'hash-one/1x1-static.jpg',
        stillRatio: '1:1',
        reviewStatus: 'approved',
        reviewReason: null,
        updatedAt: '2026-03-03T06:00:00.000Z',
      },
      {
        platform: 'tiktok',
        market: 'SE',
        adId: '1701',
        adName: 'adloop/SE/default/ad/2026-03-01/hash-one',
        creativeHash: 'hash-one',
        artistId: 'a01',
        artistName: EVIL,
        templateId: 'spotlight',
        language: 'sv',
        stillKey: 'hash-one/1x1-static.jpg',
        stillRatio: '1:1',
        reviewStatus: 'rejected',
        reviewReason: 'Text "covers" > 20% of the image',
        updatedAt: '2026-03-03T06:00:00.000Z',
      },
      {
        platform: 'meta',
        market: 'EG',
        adId: '1202',
        adName: 'adloop/EG/default/ad/2026-03-01/hash-two',
        creativeHash: 'hash-two',
        artistId: 'a03',
        artistName: 'ليلى النجار',
        templateId: 'playlist',
        language: 'ar',
        stillKey: null,
        stillRatio: null,
        reviewStatus: 'pending',
        reviewReason: null,
        updatedAt: '2026-03-03T06:00:00.000Z',
      },
      {
        platform: 'meta',
        market: 'EG',
        adId: '1203',
        adName: 'adloop/EG/default/ad/2026-03-02/hash-three',
        creativeHash: 'hash-three',
        artistId: 'a04',
        artistName: 'Ari Berg',
        templateId: 'duotone',
        language: 'ar',
        stillKey: 'hash-three/1x1-static.jpg',
        stillRatio: '1:1',
        reviewStatus: 'approved',
        reviewReason: null,
        updatedAt: '2026-03-03T06:00:00.000Z',
      },
    ],
  };
}

const images = new Map([
  ['hash-one', PIXEL],
  // Not an embedded image: the page must never load it.
  ['hash-three', 'https://example.com/tracker.png'],
]);

/** The markup of the first `<tag>` whose opening tag has `attr="value"`, to its `</tag>`. */
function element(html: string, tag: string, attr: string, value: string): string {
  const open = new RegExp(`<${tag} [^>]*${attr}="${value}"`).exec(html);
  assert.ok(open, `no <${tag}> with ${attr}="${value}"`);
  const to = html.indexOf(`</${tag}>`, open.index);
  return html.slice(open.index, to + tag.length + 3);
}

const seriesNames = (svg: string) =>
  [...svg.matchAll(/<path d="[^"]*"[^>]* data-series="([^"]*)"/g)].map((m) => m[1]);

describe('HTML report', () => {
  const data = crafted();
  const html = reportHtml(data, images);

  it('is one self-contained document: no scripts, no external requests, its own CSP', () => {
    assert.match(html, /^<!doctype html>/);
    assert.match(html, /Content-Security-Policy" content="default-src 'none'; img-src data:;/);
    assert.doesNotMatch(html, /<script/i);
    assert.doesNotMatch(html, /\b(src|href)="(?!data:|#)/, 'every src/href is embedded or in-page');
    assert.doesNotMatch(html, /url\(/);
    assert.doesNotMatch(html, /example\.com/, 'a non-data image is not embedded');
  });

  it('escapes every text from the data', () => {
    assert.ok(html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co'));
    assert.ok(html.includes('data-reason="a&lt;b"'));
    assert.ok(html.includes('Text &quot;covers&quot; &gt; 20% of the image'));
    assert.ok(html.includes('ليلى النجار'), 'non-Latin names are kept as they are');
  });

  it('plots CPR, CTR and registrations with one series per market and per arm', () => {
    for (const metric of ['cpr', 'ctr', 'registrations']) {
      const byMarket = element(html, 'figure', 'data-chart', `${metric}-by-market`);
      assert.deepEqual(seriesNames(byMarket), ['DE', 'EG', 'SE'], `${metric} by market`);
      const byArm = element(html, 'figure', 'data-chart', `${metric}-by-arm`);
      assert.deepEqual(seriesNames(byArm), ['heuristic', 'ml'], `${metric} by arm`);
    }
    const cpr = element(html, 'figure', 'data-chart', 'cpr-by-market');
    const eg = /<path d="([^"]*)"[^>]* data-series="EG"/.exec(cpr)![1]!;
    assert.equal(eg.split('M').length - 1, 1, 'EG starts at its first day with registrations');
    assert.equal(eg.split('L').length - 1, 1, 'and joins its two days with registrations');
    const de = /<path d="([^"]*)"[^>]* data-series="DE"/.exec(cpr)![1]!;
    assert.equal(de.split('L').length - 1, 1, 'DE has no delivery on the third day');
  });

  it('compares the arms with intervals over market-days', () => {
    const arms = element(html, 'table', 'data-table', 'arms');
    assert.match(arms, /data-arm="heuristic"/);
    assert.match(arms, /data-arm="ml"/);
    assert.match(arms, /<td>DE, SE<\/td><td class="n">5<\/td>/, 'ml: 5 market-days in DE and SE');
    assert.doesNotMatch(html, /data-note="one-arm"/);
  });

  it('shows each challenger off-policy, per 1,000 of spend, with intervals', () => {
    const table = element(html, 'table', 'data-table', 'challengers');
    assert.match(table, /data-model="rank-xgb@7"/);
    assert.match(table, /<td class="n">9<\/td>/, 'nine market-days');
    assert.match(
      table,
      /data-estimate="dr">4\.20 <span class="note">\[3\.80, 4\.60\]<\/span>/,
      'DR per 1,000 EUR with its interval',
    );
    const without = reportHtml({ ...data, challengers: [] }, images);
    assert.doesNotMatch(without, /data-table="challengers"/);
  });

  it("shows each market's ranking with signed contribution bars, folding long lists", () => {
    const se = element(html, 'article', 'data-market', 'SE');
    assert.equal([...se.matchAll(/<tr data-rank="/g)].length, 2);
    assert.match(se, /top 2 of 40 items/);
    assert.match(se, /model 7/);
    const neg =
      /data-reason="relCpr" data-value="-0.2".*?class="neg" style="width:(\d+\.\d)%".*?class="pos" style="width:(\d+\.\d)%"/.exec(
        se,
      )!;
    assert.deepEqual([neg[1], neg[2]], ['50.0', '0.0'], 'a negative contribution: half the scale');
    const pos =
      /data-reason="popularity" data-value="0.4".*?class="neg" style="width:(\d+\.\d)%".*?class="pos" style="width:(\d+\.\d)%"/.exec(
        se,
      )!;
    assert.deepEqual([pos[1], pos[2]], ['0.0', '100.0'], 'the largest contribution fills its side');
    assert.match(se, /<details><summary>3 more<\/summary>/, 'nine reasons: six shown');
    const eg = element(html, 'article', 'data-market', 'EG');
    assert.match(eg, /fallback-previous \(from 2026-03-01\)/);
  });

  it('shows each live creative once, its image embedded, with every platform and review', () => {
    const imgs = [...html.matchAll(/<img data-creative="([^"]+)" src="([^"]+)"/g)];
    assert.deepEqual(
      imgs.map((m) => [m[1], m[2]]),
      [['hash-one', PIXEL]],
    );
    const card = element(html, 'figure', 'data-creative-card', 'hash-one');
    assert.match(card, /data-platform="meta"/);
    assert.match(card, /data-platform="tiktok"/);
    assert.match(card, /class="tag rejected"/);
    assert.match(html, /data-creative-missing="hash-two"/, 'no still recorded');
    assert.match(html, /data-creative-missing="hash-three"/, 'a non-data image is refused');
  });

  it('says there is nothing yet instead of drawing empty charts', () => {
    const empty: ReportData = {
      ...data,
      markets: [],
      days: [],
      armDays: [],
      rankings: [],
      liveAds: [],
    };
    const page = reportHtml(empty, new Map());
    assert.doesNotMatch(page, /<svg/);
    for (const what of ['delivery', 'charts', 'arms', 'rankings', 'gallery'])
      assert.match(page, new RegExp(`data-empty="${what}"`), what);
    // Delivery but not a single registration: CPR is undefined, the other charts are drawn.
    const noRegistrations = reportHtml(
      {
        ...data,
        days: data.days.map((d) => withRates({ ...d, registrations: 0 })),
        armDays: data.armDays.map((d) => withRates({ ...d, registrations: 0 })),
      },
      new Map(),
    );
    assert.match(noRegistrations, /data-empty="chart-cpr-by-market"/);
    assert.match(noRegistrations, /data-empty="chart-cpr-by-arm"/);
    assert.match(element(noRegistrations, 'figure', 'data-chart', 'ctr-by-market'), /<svg/);
  });

  it('notes when only one arm delivered', () => {
    const one = reportHtml(
      {
        ...data,
        days: data.days.map((d) => ({ ...d, arm: 'heuristic' })),
        armDays: data.armDays.filter((a) => a.arm === 'heuristic'),
      },
      images,
    );
    assert.match(one, /data-note="one-arm"/);
  });
});

describe('CSV and JSON export', () => {
  it('quotes fields per RFC 4180', () => {
    assert.equal(csvField('plain'), 'plain');
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvField('two\nlines'), '"two\nlines"');
    assert.equal(csvField('cr\r'), '"cr\r"');
    assert.equal(csvField(' padded'), '" padded"');
    assert.equal(csvField(null), '');
    assert.equal(csvField(0.25), '0.25');
    assert.equal(csvField(Number.NaN), '');
  });

  it('writes one row per day and market that a CSV parser reads back', () => {
    const data = crafted();
    data.days[0]!.arm = 'ml, "v2"\nchallenger';
    const csv = reportCsv(data);
    assert.ok(csv.endsWith('\r\n'));
    const rows = parse<Record<string, string>>(csv, { columns: true });
    assert.equal(rows.length, data.days.length);
    assert.deepEqual(Object.keys(rows[0]!), [...REPORT_CSV_COLUMNS]);
    assert.equal(rows[0]!.arm, 'ml, "v2"\nchallenger');
    const eg = rows.find((r) => r.market === 'EG' && r.date === '2026-03-01')!;
    assert.deepEqual(
      [eg.currency, eg.spend, eg.registrations, eg.cpr, eg.ctr],
      ['EUR', '80', '0', '', String(150 / 10_000)],
    );
    const se = rows.find((r) => r.market === 'SE' && r.date === '2026-03-01')!;
    assert.equal(se.cpr, '2');
  });

  it('writes the data itself as JSON', () => {
    const data = crafted();
    assert.deepEqual(JSON.parse(reportJson(data)), data);
  });
});
