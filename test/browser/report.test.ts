// The HTML report in a real browser (Debian's Chromium through playwright-core), built by
// `reportCommand` from what the real stages wrote: its charts draw, every creative image decodes,
// each market's ranked list is there, nothing outside the file is fetched, and no secret of the
// platforms appears in the HTML, CSV or JSON.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';
import { reportCommand, type ReportCommandResult } from '../../cli/commands/report.ts';
import { reportFixture, type ReportFixture } from '../helpers/report-fixture.ts';

const MARKETS = ['SE', 'EG'];
const DATES = ['2026-03-01', '2026-03-02'];

describe('HTML report in Chromium', () => {
  let fx: ReportFixture;
  let report: ReportCommandResult;
  let browser: Browser;
  let page: Page;
  const lines: string[] = [];
  const requests: string[] = [];
  const problems: string[] = [];
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'adloop-report-browser-'));

  before(async () => {
    fx = await reportFixture({ markets: MARKETS, dates: DATES });
    // As after `npm start` has exited: the command opens the database itself.
    await fx.releaseDatabase();
    report = await reportCommand(
      {
        to: DATES[1],
        out: path.join(out, 'report.html'),
        csv: path.join(out, 'report.csv'),
        json: path.join(out, 'report.json'),
      },
      { env: fx.env(), progress: (l) => lines.push(l) },
    );
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('request', (r) => requests.push(r.url()));
    // A blocked fetch or a broken image shows up here (CSP violations are console errors).
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(pathToFileURL(report.html!).href, { waitUntil: 'load' });
  });
  after(async () => {
    await browser?.close();
    await fx?.close();
    fs.rmSync(out, { recursive: true, force: true });
  });

  it('was built from the database directly, with per-stage progress', () => {
    assert.equal(report.via, 'database');
    for (const stage of [/^▸ reading the database/, /creatives' images/, /^▸ wrote .*report\.html/])
      assert.ok(
        lines.some((l) => stage.test(l)),
        `${String(stage)} in:\n${lines.join('\n')}`,
      );
    assert.ok(report.data.days.length > 0 && report.data.liveAds.length > 0);
  });

  it('draws every chart: an SVG with a size and at least one non-empty line', async () => {
    const charts = await page.evaluate<
      Array<{ id: string; w: number; h: number; lines: number; drawn: number }>
    >(`[...document.querySelectorAll('[data-chart]')].map((f) => {
        const svg = f.querySelector('svg');
        const box = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
        const paths = svg ? [...svg.querySelectorAll('path[data-series]')] : [];
        return {
          id: f.dataset.chart,
          w: box.width,
          h: box.height,
          lines: paths.length,
          drawn: paths.filter((p) => {
            const b = p.getBBox();
            return (p.getAttribute('d') || '').length > 0 && (b.width > 0 || b.height > 0);
          }).length,
        };
      })`);
    assert.deepEqual(
      charts.map((c) => c.id),
      [
        'cpr-by-market',
        'ctr-by-market',
        'registrations-by-market',
        'cpr-by-arm',
        'ctr-by-arm',
        'registrations-by-arm',
      ],
    );
    for (const c of charts) {
      assert.ok(c.w > 200 && c.h > 100, `${c.id} has a size: ${c.w}x${c.h}`);
      assert.ok(c.drawn >= 1, `${c.id} draws a line`);
    }
    const byMarket = charts.find((c) => c.id === 'registrations-by-market')!;
    assert.equal(byMarket.lines, MARKETS.length, 'one line per market');
  });

  it('shows every live creative as a decoded image', async () => {
    await page.waitForFunction(
      `[...document.querySelectorAll('img[data-creative]')].every((i) => i.complete)`,
    );
    const images = await page.evaluate<Array<{ hash: string; w: number; h: number }>>(
      `[...document.querySelectorAll('img[data-creative]')].map((i) => ({
        hash: i.dataset.creative, w: i.naturalWidth, h: i.getBoundingClientRect().height }))`,
    );
    const hashes = [...new Set(report.data.liveAds.map((a) => a.creativeHash))].sort();
    assert.deepEqual(images.map((i) => i.hash).sort(), hashes);
    for (const i of images) {
      assert.equal(i.w, 320, `${i.hash} decoded at the embedded width`);
      assert.ok(i.h > 100, `${i.hash} is shown`);
    }
    assert.equal(await page.locator('[data-creative-missing]').count(), 0);
  });

  it("lists each market's ranking, every row with its reasons", async () => {
    for (const r of report.data.rankings) {
      const rows = page.locator(`article.ranking[data-market="${r.market}"] tr[data-rank]`);
      assert.equal(await rows.count(), r.items.length, r.market);
      assert.ok(r.items.length > 0);
      const reasons = page.locator(
        `article.ranking[data-market="${r.market}"] tr[data-rank="1"] .reason`,
      );
      assert.equal(await reasons.count(), Object.keys(r.items[0]!.reasons).length);
    }
    assert.deepEqual(report.data.rankings.map((r) => r.market).sort(), [...MARKETS].sort());
  });

  it('fetches nothing outside the file and reports no error', () => {
    const outside = requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:'));
    assert.deepEqual(outside, []);
    assert.deepEqual(problems, []);
  });

  it('renders to a full, non-blank page', async () => {
    const file = path.join(out, 'report.png');
    await page.screenshot({ path: file, fullPage: true });
    const meta = await sharp(file).metadata();
    assert.equal(meta.width, 1280);
    assert.ok(meta.height > 2500, `a long page: ${meta.height} px`);
    const stats = await sharp(file).stats();
    assert.ok(
      stats.channels.slice(0, 3).every((c) => c.stdev > 20),
      'charts, tables and creatives, not a blank page',
    );
    assert.ok(fs.statSync(file).size > 150_000);
  });

  it('never contains an access token or secret', () => {
    assert.ok(fx.secrets.every((s) => s.length >= 8));
    for (const file of [report.html!, report.csv!, report.json!]) {
      const text = fs.readFileSync(file, 'utf8');
      for (const secret of fx.secrets)
        assert.ok(!text.includes(secret), `${path.basename(file)} contains a secret`);
    }
  });
});
