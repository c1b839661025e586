// The bulk metrics writer on both databases: COPY + merge on PostgreSQL, multi-row upsert on
// PGlite. Same behaviour: idempotent, later rows win, and a failing batch writes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DatabaseHandle } from '../../db/database.ts';
import { createDeliveryWriter, type DeliveryWriter } from '../../db/delivery-writer.ts';
import type { AdMetricsDailyTable } from '../../db/delivery.table.ts';
import { DB_KINDS, freshDatabase } from '../helpers/db.ts';

const row = (ad: number, date: string, impressions = 100): AdMetricsDailyTable => ({
  platform: 'meta',
  ad_id: String(ad),
  date,
  market: 'SE',
  creative_hash: ad % 2 === 0 ? `hash\t${ad}` : null, // a tab and a null exercise COPY escaping
  impressions,
  clicks: 3,
  spend_micros: 9_007_199_254, // beyond int32
  currency: 'SEK',
  installs: 2,
  registrations: 1,
  subscriptions: 0,
});

for (const kind of DB_KINDS) {
  describe(`metrics writer on ${kind}`, () => {
    let h: DatabaseHandle;
    let writer: DeliveryWriter;
    const count = async () =>
      Number(
        (
          await h.db
            .selectFrom('ad_metrics_daily')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );

    before(async () => {
      h = await freshDatabase(kind);
      writer = createDeliveryWriter(h);
    });
    after(async () => h?.close());

    it('writes a batch, and writing it again changes nothing', async () => {
      const batch = Array.from({ length: 5000 }, (_, i) =>
        row(i, i % 2 ? '2026-03-01' : '2026-03-02'),
      );
      assert.equal(await writer.upsertAdMetrics(batch), 5000);
      assert.equal(await writer.upsertAdMetrics(batch), 5000);
      assert.equal(await count(), 5000);
      const r = await h.db
        .selectFrom('ad_metrics_daily')
        .selectAll()
        .where('ad_id', '=', '4')
        .executeTakeFirstOrThrow();
      assert.deepEqual(
        [r.creative_hash, r.spend_micros, r.date, r.currency],
        ['hash\t4', 9_007_199_254, '2026-03-02', 'SEK'],
      );
    });

    it('lets late data update the stored day, the later of two rows winning', async () => {
      await writer.upsertAdMetrics([row(1, '2026-03-01', 111), row(1, '2026-03-01', 222)]);
      const r = await h.db
        .selectFrom('ad_metrics_daily')
        .select('impressions')
        .where('ad_id', '=', '1')
        .executeTakeFirstOrThrow();
      assert.equal(r.impressions, 222);
      assert.equal(await count(), 5000);
    });

    it('writes nothing of a batch that fails', async () => {
      const bad = [
        row(90_001, '2026-03-03'),
        { ...row(90_002, '2026-03-03'), market: null as unknown as string },
      ];
      await assert.rejects(writer.upsertAdMetrics(bad));
      assert.equal(await count(), 5000);
    });
  });
}

for (const kind of DB_KINDS) {
  describe(`metrics writer on ${kind}: partial re-reads`, () => {
    it('never overwrites a day with a read that has less spend', async () => {
      const h = await freshDatabase(kind);
      try {
        const writer = createDeliveryWriter(h);
        await writer.upsertAdMetrics([{ ...row(1, '2026-03-01', 500), spend_micros: 1_000 }]);
        await writer.upsertAdMetrics([{ ...row(1, '2026-03-01', 200), spend_micros: 400 }]);
        const r = await h.db.selectFrom('ad_metrics_daily').selectAll().executeTakeFirstOrThrow();
        assert.deepEqual([r.impressions, r.spend_micros], [500, 1_000]);
        await writer.upsertAdMetrics([{ ...row(1, '2026-03-01', 700), spend_micros: 1_500 }]);
        const later = await h.db
          .selectFrom('ad_metrics_daily')
          .selectAll()
          .executeTakeFirstOrThrow();
        assert.deepEqual([later.impressions, later.spend_micros], [700, 1_500]);
      } finally {
        await h.close();
      }
    });
  });
}
