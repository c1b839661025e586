// Repository behaviour on both databases adloop supports: embedded PGlite and PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { popularityAsOf, upsertCatalog } from '../../db/catalog.repository.ts';
import type { DatabaseHandle } from '../../db/database.ts';
import {
  creativeTotals,
  latestPerformanceBefore,
  replaceCreativePerformance,
  upsertAdMetrics,
} from '../../db/delivery.repository.ts';
import { getRanking, previousRanking, saveRanking } from '../../db/rankings.repository.ts';
import {
  finishRun,
  getRun,
  listStageEvents,
  recordStageEvent,
  startRun,
} from '../../db/runs.repository.ts';
import {
  getCreativeAssets,
  getCreatives,
  listRunCreatives,
  saveRenderedCreative,
  setRunCreatives,
} from '../../db/creatives.repository.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import { DB_KINDS, freshDatabase } from '../helpers/db.ts';

const market = {
  code: 'SE',
  name: 'Sweden',
  language: 'sv',
  currency: 'SEK',
  time_zone: 'Europe/Stockholm',
  right_to_left: false,
};
const artist = (id: string, genre = 'pop') => ({
  id,
  name: `Artist ${id}`,
  genre,
  image_path: `/img/${id}.jpg`,
});
const metric = (ad: string, date: string, impressions: number, registrations = 1) => ({
  platform: 'meta',
  ad_id: ad,
  date,
  market: 'SE',
  creative_hash: `hash-${ad}`,
  impressions,
  clicks: Math.round(impressions / 100),
  spend_micros: 12_345_678_901,
  currency: 'SEK',
  installs: 3,
  registrations,
  subscriptions: 0,
});

for (const kind of DB_KINDS) {
  describe(`repositories on ${kind}`, () => {
    let h: DatabaseHandle;
    before(async () => {
      h = await freshDatabase(kind);
    });
    after(async () => {
      await h?.close();
    });

    it('migrations are idempotent', async () => {
      assert.deepEqual(await migrateToLatest(h.db), []);
    });

    it('imports a catalog all or nothing', async () => {
      await upsertCatalog(h.db, {
        date: '2026-03-01',
        markets: [market],
        artists: [artist('a1'), artist('a2', 'rock')],
        popularity: [
          { artistId: 'a1', market: 'SE', popularity: 0.4 },
          { artistId: 'a2', market: 'SE', popularity: 0.7 },
        ],
      });
      // A popularity row for an unknown artist violates a foreign key: nothing of this import lands.
      await assert.rejects(
        upsertCatalog(h.db, {
          date: '2026-03-02',
          markets: [market],
          artists: [artist('a3')],
          popularity: [{ artistId: 'missing', market: 'SE', popularity: 0.1 }],
        }),
      );
      const rows = await popularityAsOf(h.db, 'SE', '2026-03-05');
      assert.deepEqual(
        rows.map((r) => [r.id, r.popularity]),
        [
          ['a1', 0.4],
          ['a2', 0.7],
        ],
      );
    });

    it('returns the latest popularity on or before a date, never after', async () => {
      await upsertCatalog(h.db, {
        date: '2026-03-03',
        markets: [],
        artists: [],
        popularity: [{ artistId: 'a1', market: 'SE', popularity: 0.9 }],
      });
      const before3 = await popularityAsOf(h.db, 'SE', '2026-03-02');
      assert.equal(before3.find((r) => r.id === 'a1')!.popularity, 0.4);
      const on3 = await popularityAsOf(h.db, 'SE', '2026-03-03');
      assert.equal(on3.find((r) => r.id === 'a1')!.popularity, 0.9);
    });

    it('upserts metrics idempotently, with bigints as numbers and dates as strings', async () => {
      await upsertAdMetrics(h.db, [
        metric('1', '2026-03-01', 1000),
        metric('2', '2026-03-01', 500),
      ]);
      await upsertAdMetrics(h.db, [
        metric('1', '2026-03-01', 1200),
        metric('1', '2026-03-02', 300),
      ]);
      const rows = await h.db
        .selectFrom('ad_metrics_daily')
        .selectAll()
        .orderBy('ad_id')
        .orderBy('date')
        .execute();
      assert.equal(rows.length, 3);
      assert.equal(rows[0]!.impressions, 1200);
      assert.equal(rows[0]!.spend_micros, 12_345_678_901);
      assert.equal(typeof rows[0]!.spend_micros, 'number');
      assert.equal(rows[0]!.date, '2026-03-01');
      const totals = await creativeTotals(h.db, 'SE', '2026-03-01', '2026-03-02');
      assert.deepEqual(
        totals
          .sort((a, b) => a.creativeHash.localeCompare(b.creativeHash))
          .map((t) => [t.creativeHash, t.impressions, t.registrations]),
        [
          ['hash-1', 1500, 2],
          ['hash-2', 500, 1],
        ],
      );
    });

    it('reads performance strictly before a date (no leakage from the day ranked)', async () => {
      const perf = (asOf: string, registrations: number) => ({
        creative_hash: 'h1',
        platform: 'meta',
        as_of: asOf,
        market: 'SE',
        artist_id: 'a1',
        template_id: 't',
        impressions: 10,
        clicks: 1,
        spend_micros: 5,
        registrations,
        ctr: 0.1,
        cpr_micros: 5 / Math.max(1, registrations),
        installs: 2,
        subscriptions: 0,
        mmp_registrations: 0,
        cvr: registrations,
        cps_micros: null,
        registration_share: 1,
        relative_registration_share: 1,
        relative_cpr: 1,
      });
      await replaceCreativePerformance(h.db, 'SE', '2026-03-01', [perf('2026-03-01', 1)]);
      await replaceCreativePerformance(h.db, 'SE', '2026-03-02', [perf('2026-03-02', 2)]);
      await replaceCreativePerformance(h.db, 'SE', '2026-03-02', [perf('2026-03-02', 3)]);
      assert.equal((await latestPerformanceBefore(h.db, 'SE', '2026-03-02'))[0]!.registrations, 1);
      assert.equal((await latestPerformanceBefore(h.db, 'SE', '2026-03-03'))[0]!.registrations, 3);
      assert.deepEqual(await latestPerformanceBefore(h.db, 'SE', '2026-03-01'), []);
      // A creative two markets share (content-addressed: same copy, same artist) is measured in
      // each market on its own.
      await replaceCreativePerformance(h.db, 'NO', '2026-03-02', [
        { ...perf('2026-03-02', 7), market: 'NO' },
      ]);
      assert.equal((await latestPerformanceBefore(h.db, 'NO', '2026-03-03'))[0]!.registrations, 7);
      assert.equal((await latestPerformanceBefore(h.db, 'SE', '2026-03-03'))[0]!.registrations, 3);
    });

    it('saves a ranking whole and finds the previous one', async () => {
      const items = [
        { rank: 1, artistId: 'a2', templateId: 't', score: 0.9, reasons: { popularity: 1 } },
        { rank: 2, artistId: 'a1', templateId: 't', score: 0.5, reasons: { popularity: 0.5 } },
      ];
      await saveRanking(h.db, {
        market: 'SE',
        date: '2026-03-01',
        policy: 'heuristic',
        source: 'computed',
        basedOn: null,
        items,
      });
      await saveRanking(h.db, {
        market: 'SE',
        date: '2026-03-01',
        policy: 'heuristic',
        source: 'computed',
        basedOn: null,
        items: items.slice(0, 1),
      });
      assert.equal((await getRanking(h.db, 'SE', '2026-03-01'))!.items.length, 1);
      const prev = await previousRanking(h.db, 'SE', '2026-03-04');
      assert.equal(prev!.date, '2026-03-01');
      assert.deepEqual(prev!.items[0]!.reasons, { popularity: 1 });
      assert.equal(await previousRanking(h.db, 'SE', '2026-03-01'), null);
      await saveRanking(h.db, {
        market: 'DE',
        date: '2026-03-01',
        policy: 'ml',
        source: 'computed',
        basedOn: null,
        modelVersion: 'xgb-7',
        items,
      });
      assert.equal((await getRanking(h.db, 'DE', '2026-03-01'))!.modelVersion, 'xgb-7');
      assert.equal((await getRanking(h.db, 'SE', '2026-03-01'))!.modelVersion, null);
    });

    it('records a rendered creative whole, and lists a run under its own market', async () => {
      // Artist a1 exists from the catalog import above; the creative is shared by SE and NO.
      const asset = (ratio: string, passed: boolean) => ({
        ratio,
        kind: 'static' as const,
        format: 'jpeg',
        storageKey: `h1/${ratio.replace(':', 'x')}-static.jpg`,
        uri: `file:///c/h1/${ratio}.jpg`,
        width: 1080,
        height: 1080,
        bytes: 12_345,
        durationSeconds: null,
        qaPassed: passed,
        qaPlatforms: { meta: true, tiktok: passed },
        qaFindings: passed
          ? []
          : [{ check: 'safe-zone', platform: 'tiktok', slot: 'cta', message: 'under the caption' }],
        renderMs: 42,
      });
      const creative = {
        hash: 'h1',
        market: 'SE',
        artist_id: 'a1',
        template_id: 'spotlight',
        template_version: 3,
        language: 'en',
        aspect_ratio: '1:1',
        path: '/c/h1/1x1.jpg',
        asset_uri: 'file:///c/h1/1x1.jpg',
        bytes: 12_345,
        qa_passed: false,
        qa_platforms: JSON.stringify({ meta: true, tiktok: true }),
      };
      await saveRenderedCreative(h.db, creative, [asset('1:1', true), asset('9:16', false)]);
      // Recording it again (a retried activity) changes nothing and duplicates nothing.
      await saveRenderedCreative(h.db, creative, [asset('1:1', true), asset('9:16', false)]);
      const assets = await getCreativeAssets(h.db, ['h1']);
      assert.deepEqual(
        assets.map((a) => [a.ratio, a.qa_passed, a.bytes, a.qa_findings.length]),
        [
          ['1:1', true, 12_345, 0],
          ['9:16', false, 12_345, 1],
        ],
      );
      assert.equal(assets[1]!.qa_findings[0]!.message, 'under the caption');
      // A bad asset list (the same asset twice) rolls the whole record back, creative included.
      await assert.rejects(
        saveRenderedCreative(h.db, { ...creative, hash: 'h2' }, [
          asset('1:1', true),
          asset('1:1', true),
        ]),
      );
      assert.deepEqual(await getCreatives(h.db, ['h2']), []);
      assert.deepEqual(await getCreativeAssets(h.db, ['h2']), []);

      await setRunCreatives(h.db, 'SE', '2026-03-05', [{ hash: 'h1', deployable: true }]);
      await setRunCreatives(h.db, 'NO', '2026-03-05', [{ hash: 'h1', deployable: false }]);
      await setRunCreatives(h.db, 'NO', '2026-03-05', [{ hash: 'h1', deployable: false }]);
      const rows = await listRunCreatives(h.db, '2026-03-05');
      assert.deepEqual(
        rows.map((r) => [r.market, r.position, r.hash, r.deployable, r.artist_name]),
        [
          ['NO', 1, 'h1', false, 'Artist a1'],
          ['SE', 1, 'h1', true, 'Artist a1'],
        ],
      );
      assert.deepEqual(
        (await listRunCreatives(h.db, '2026-03-05', ['NO'])).map((r) => r.market),
        ['NO'],
      );
    });

    it('records runs and their stage events in order', async () => {
      await startRun(h.db, { id: 'market/SE/2026-03-01', market: 'SE', date: '2026-03-01' });
      await recordStageEvent(h.db, {
        runId: 'market/SE/2026-03-01',
        stage: 'ingest',
        event: 'started',
        attempt: 1,
      });
      await recordStageEvent(h.db, {
        runId: 'market/SE/2026-03-01',
        stage: 'ingest',
        event: 'completed',
        attempt: 1,
        detail: { rows: 3 },
      });
      await finishRun(h.db, 'market/SE/2026-03-01', { status: 'completed', fallbackUsed: true });
      const run = await getRun(h.db, 'market/SE/2026-03-01');
      assert.equal(run!.status, 'completed');
      assert.equal(run!.fallback_used, true);
      assert.ok(run!.finished_at instanceof Date);
      const events = await listStageEvents(h.db, 'market/SE/2026-03-01');
      assert.deepEqual(
        events.map((e) => e.event),
        ['started', 'completed'],
      );
      assert.deepEqual(events[1]!.detail, { rows: 3 });
      // A rerun reopens the same row rather than adding one.
      await startRun(h.db, { id: 'market/SE/2026-03-01', market: 'SE', date: '2026-03-01' });
      assert.equal((await getRun(h.db, 'market/SE/2026-03-01'))!.status, 'running');
    });

    it('serialises concurrent transactions without losing writes', async () => {
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          upsertAdMetrics(h.db, [metric(`c${i}`, '2026-03-09', i)]),
        ),
      );
      const n = await h.db
        .selectFrom('ad_metrics_daily')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('date', '=', '2026-03-09')
        .executeTakeFirstOrThrow();
      assert.equal(Number(n.n), 20);
    });
  });
}
