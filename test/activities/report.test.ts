// `adloop report`'s data on what the real stages wrote over two days in two markets: it adds up to
// the stored delivery, names each market-day's arm, lists the latest rankings and the live ads
// with a still each; the same data through the activity, through the `reportData` workflow on a
// real Temporal server when the embedded database is owned by another holder (as under a running
// `npm start`), and served on localhost.
import { FAILURE } from '../../core/failures.ts';
import { MockActivityEnvironment, type TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createActivities } from '../../activities/index.ts';
import { convertMicros } from '../../core/money.ts';
import { collectReportData } from '../../reports/collect.ts';
import type { ReportData } from '../../reports/report-data.ts';
import { reportCommand } from '../../cli/commands/report.ts';
import { typedRun } from '../helpers/activity.ts';
import { reportFixture, type ReportFixture } from '../helpers/report-fixture.ts';
import { createTestWorker, testEnvironment, uniqueTaskQueue } from '../helpers/temporal.ts';

const MARKETS = ['SE', 'EG'];
const DATES = ['2026-03-01', '2026-03-02'];
const RANGE = { from: '2026-02-24', to: '2026-03-02' };

/** The data without its timestamp, to compare two reads. */
const timeless = ({ generatedAt: _, ...rest }: ReportData) => rest;

describe('report data from the real stages', () => {
  let fx: ReportFixture;
  let data: ReportData;
  const options = () => ({
    ...RANGE,
    fx: fx.deps.fx,
    currency: 'EUR',
    objective: 'registrations' as const,
  });

  before(async () => {
    fx = await reportFixture({
      markets: MARKETS,
      dates: DATES,
      rankingPolicyByMarket: 'EG=heuristic',
    });
    data = await collectReportData(fx.database.db, options());
  });
  after(async () => fx?.close());

  it('adds up to the delivery the platforms reported, spend in the reporting currency', async () => {
    const stored = await fx.database.db
      .selectFrom('ad_metrics_daily')
      .select(['market', 'date', 'currency', 'spend_micros', 'impressions', 'clicks'])
      .select(['registrations', 'subscriptions'])
      .where('date', '>=', RANGE.from)
      .where('date', '<=', RANGE.to)
      .execute();
    assert.ok(stored.length > 0, 'the stages stored delivery');
    const sum = <T>(rows: T[], f: (r: T) => number) => rows.reduce((s, r) => s + f(r), 0);
    assert.ok(sum(data.days, (d) => d.registrations) > 0);
    assert.equal(
      sum(data.days, (d) => d.registrations),
      sum(stored, (r) => r.registrations),
    );
    assert.equal(
      sum(data.days, (d) => d.subscriptions),
      sum(stored, (r) => r.subscriptions),
    );
    assert.equal(
      sum(data.days, (d) => d.impressions),
      sum(stored, (r) => r.impressions),
    );
    assert.equal(
      sum(data.days, (d) => d.clicks),
      sum(stored, (r) => r.clicks),
    );
    const eur = sum(stored, (r) => convertMicros(r.spend_micros, r.currency, 'EUR', fx.deps.fx));
    assert.ok(Math.abs(sum(data.days, (d) => d.spend) - eur / 1e6) < 1e-6);
    assert.ok(
      stored.some((r) => r.currency !== 'EUR'),
      'the sandbox spends in USD',
    );
    assert.deepEqual(
      new Set(data.days.map((d) => `${d.date}/${d.market}`)).size,
      data.days.length,
      'one row per market-day (platforms and currencies added up)',
    );
    for (const d of data.days) {
      assert.equal(d.ctr, d.impressions ? d.clicks / d.impressions : null);
      assert.equal(d.cpr, d.registrations ? d.spend / d.registrations : null);
    }
    assert.deepEqual(data.markets, [...MARKETS].sort());
    assert.equal(data.currency, 'EUR');
  });

  it('tags each market-day with the policy of the ranking whose ads ran, and sums the arms', async () => {
    const rankings = await fx.database.db
      .selectFrom('rankings')
      .select(['market', 'date', 'policy'])
      .execute();
    for (const d of data.days) {
      const ranking = rankings
        .filter((r) => r.market === d.market && r.date <= d.date)
        .sort((a, b) => a.date.localeCompare(b.date))
        .at(-1);
      assert.equal(d.arm, ranking?.policy ?? null, `${d.market} ${d.date}`);
    }
    const armed = data.days.filter((d) => d.arm !== null);
    assert.equal(
      data.armDays.reduce((s, a) => s + a.registrations, 0),
      armed.reduce((s, d) => s + d.registrations, 0),
    );
    for (const a of data.armDays)
      assert.deepEqual(
        a.markets,
        armed
          .filter((d) => d.date === a.date && d.arm === a.arm)
          .map((d) => d.market)
          .sort(),
      );
  });

  it("keeps each market's latest ranking in the range, with its reasons", async () => {
    assert.deepEqual(
      data.rankings.map((r) => [r.market, r.date]),
      [
        ['EG', DATES[1]],
        ['SE', DATES[1]],
      ],
    );
    for (const r of data.rankings) {
      const stored = await fx.database.db
        .selectFrom('ranking_items')
        .selectAll()
        .where('market', '=', r.market)
        .where('date', '=', r.date)
        .orderBy('rank')
        .execute();
      assert.equal(r.itemCount, stored.length);
      assert.deepEqual(
        r.items.map((i) => [i.rank, i.artistId, i.templateId, i.score, i.selection]),
        stored.slice(0, 25).map((i) => [i.rank, i.artist_id, i.template_id, i.score, i.selection]),
      );
      for (const i of r.items) {
        assert.ok(Object.keys(i.reasons).length > 0, 'every item says why');
        assert.ok(Object.values(i.reasons).every(Number.isFinite));
        assert.notEqual(i.artistName, i.artistId, 'names come from the catalog');
      }
    }
  });

  it('lists the ads live on each platform with a still of their creative', async () => {
    const live = await fx.database.db
      .selectFrom('platform_objects')
      .select(['platform', 'external_id'])
      .where('kind', '=', 'ad')
      .where('status', '=', 'active')
      .execute();
    assert.equal(data.liveAds.length, live.length);
    assert.deepEqual(new Set(data.liveAds.map((a) => a.platform)), new Set(['meta', 'tiktok']));
    for (const ad of data.liveAds) {
      assert.match(ad.stillKey ?? '', /^[0-9a-f]{24}\/1x1-static\.jpg$/);
      assert.equal(ad.stillKey!.split('/')[0], ad.creativeHash);
      assert.equal(ad.reviewStatus, 'approved');
      assert.ok(ad.artistName && ad.templateId && ad.language);
    }
  });

  it('narrows to markets, stays compact, and is empty before any delivery', async () => {
    const eg = await collectReportData(fx.database.db, { ...options(), markets: ['EG'] });
    assert.deepEqual(eg.markets, ['EG']);
    assert.ok(eg.days.length > 0 && eg.days.every((d) => d.market === 'EG'));
    assert.ok(eg.liveAds.every((a) => a.market === 'EG'));
    assert.deepEqual(
      eg.rankings.map((r) => r.market),
      ['EG'],
    );
    assert.ok(Buffer.byteLength(JSON.stringify(data)) < 100_000, 'no image bytes in the data');
    const before = await collectReportData(fx.database.db, {
      ...options(),
      from: '2026-01-01',
      to: '2026-01-31',
    });
    assert.deepEqual([before.days, before.armDays, before.rankings], [[], [], []]);
  });

  it('is what the collectReport activity returns, which refuses malformed dates for good', async () => {
    const run = typedRun(new MockActivityEnvironment());
    const acts = createActivities(fx.deps);
    assert.deepEqual(timeless(await run(acts.collectReport, RANGE)), timeless(data));
    await assert.rejects(
      run(acts.collectReport, { from: '2026-02-30', to: RANGE.to }),
      (e: Error & { type?: string; nonRetryable?: boolean }) =>
        e.type === FAILURE.reportInput && e.nonRetryable === true,
    );
  });

  describe('while another holder owns the embedded database', () => {
    let env: TestWorkflowEnvironment;
    let worker: Worker;
    let running: Promise<void>;
    const taskQueue = uniqueTaskQueue('report');
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'adloop-report-out-'));
    const settings = () =>
      fx.env({ TEMPORAL_ADDRESS: env.address, TEMPORAL_TASK_QUEUE: taskQueue });

    before(async () => {
      env = await testEnvironment();
      // The fixture's open PGlite stands for `npm start`'s worker, and serves reports as it does.
      worker = await createTestWorker(env, taskQueue, fx.deps);
      running = worker.run();
      // The command refuses to wait on a queue nobody polls; here the worker has just started.
      for (let i = 0; i < 100; i++) {
        const q = await env.client.workflowService.describeTaskQueue({
          namespace: 'default',
          taskQueue: { name: taskQueue },
          taskQueueType: 1, // workflow
        });
        if ((q.pollers ?? []).length > 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    });
    after(async () => {
      if (worker?.getState() === 'RUNNING') worker.shutdown();
      await running;
      await env?.teardown();
      fs.rmSync(out, { recursive: true, force: true });
    });

    it('reads it through the reportData workflow, saying so, and writes the files', async () => {
      const lines: string[] = [];
      const r = await reportCommand(
        {
          ...RANGE,
          out: path.join(out, 'report.html'),
          csv: path.join(out, 'report.csv'),
          json: path.join(out, 'report.json'),
        },
        { env: settings(), progress: (l) => lines.push(l) },
      );
      assert.equal(r.via, 'temporal');
      assert.ok(
        lines.some((l) => /owned by a running loop worker.*asking it through Temporal/.test(l)),
        lines.join('\n'),
      );
      assert.deepEqual(timeless(r.data), timeless(data));
      assert.equal(r.images, new Set(data.liveAds.map((a) => a.creativeHash)).size);
      assert.deepEqual(r.missingImages, []);
      for (const file of [r.html!, r.csv!, r.json!]) assert.ok(fs.statSync(file).size > 0);
      assert.deepEqual(
        timeless(JSON.parse(fs.readFileSync(r.json!, 'utf8')) as ReportData),
        timeless(data),
      );
      assert.ok(lines.some((l) => l.startsWith('▸ wrote ') && l.includes('report.html')));
    });

    it('serves the report on localhost until stopped', async () => {
      const stop = new AbortController();
      let listening: (url: string) => void = () => undefined;
      const served = new Promise<string>((resolve) => (listening = resolve));
      const done = reportCommand(
        { ...RANGE, serve: true },
        {
          env: settings(),
          signal: stop.signal,
          progress: (l) => {
            const m = /serving the report on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(l);
            if (m) listening(m[1]!);
          },
        },
      );
      const url = await Promise.race([
        served,
        done.then(() => {
          throw new Error('reportCommand returned without serving');
        }),
      ]);
      const page = await fetch(url);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
      assert.match(await page.text(), /data-section="gallery"/);
      const csv = await fetch(`${url}report.csv`);
      assert.match(await csv.text(), /^date,market,arm,/);
      assert.equal((await fetch(`${url}nothing`)).status, 404);
      // Only under its loopback names: a DNS-rebinding page (evil.example resolving to
      // 127.0.0.1) is refused, and so is any request body.
      const port = new URL(url).port;
      const get = (host: string, o: { method?: string; body?: string } = {}) =>
        new Promise<{ status: number; text: string }>((resolve, reject) => {
          const headers = {
            host,
            ...(o.body === undefined ? {} : { 'content-length': Buffer.byteLength(o.body) }),
          };
          const req = http.request(url, { method: o.method ?? 'GET', headers }, (res) => {
            let text = '';
            res.on('data', (c: Buffer) => (text += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          });
          req.on('error', reject);
          req.end(o.body);
        });
      for (const host of [
        `evil.example:${port}`,
        'evil.example',
        `127.0.0.1:${Number(port) + 1}`,
      ]) {
        const refused = await get(host);
        assert.equal(refused.status, 421, host);
        assert.doesNotMatch(refused.text, /data-section/, 'nothing of the report');
      }
      for (const host of [
        `127.0.0.1:${port}`,
        `localhost:${port}`,
        `LOCALHOST:${port}`,
        `[::1]:${port}`,
      ])
        assert.equal((await get(host)).status, 200, host);
      assert.equal((await get(`localhost:${port}`, { method: 'POST', body: 'x' })).status, 405);
      assert.equal((await get(`localhost:${port}`, { body: 'x'.repeat(1000) })).status, 413);
      stop.abort();
      assert.equal((await done).html, null, 'serving writes no file unless asked');
      await assert.rejects(fetch(url), 'closed: the port no longer answers');
    });
  });
});
