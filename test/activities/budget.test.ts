// Budgets that follow results, end to end on the sandbox: the day's allocation over every market
// and platform, deploy creating ad sets at it and moving existing ones to it (in the plan, the
// approval's fingerprint and the audit), a rerun of the day unchanged, and the report's reasons.
import { MockActivityEnvironment } from '@temporalio/testing';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ensureAllocation } from '../../activities/deploy/allocation.ts';
import { createActivities, type Activities } from '../../activities/index.ts';
import { addDays } from '../../core/dates.ts';
import type { RenderedCreative } from '../../core/types.ts';
import { allocationOn } from '../../db/budgets.repository.ts';
import { listPlatformWrites } from '../../db/deploy.repository.ts';
import { collectReportData } from '../../reports/collect.ts';
import { reportHtml } from '../../reports/html-report.ts';
import { renderAll, typedRun } from '../helpers/activity.ts';
import { sandboxMetaAccount, startTestStack, type TestStack } from '../helpers/stack.ts';

const D1 = '2026-03-01';
const D2 = addDays(D1, 1);
const AD_SET = 'adloop/SE/android/installs';

describe('budget allocation', () => {
  let stack: TestStack;
  let acts: Activities;
  let ranked: RenderedCreative[];
  const run = (market: string, date: string) =>
    typedRun(
      new MockActivityEnvironment({
        workflowExecution: { workflowId: `market/${market}/${date}`, runId: `r-${date}` },
      }),
    );
  /** The Meta ad set's daily budget in the sandbox, in Meta's units (cents of EUR). */
  const metaBudget = () =>
    Number(
      stack.sandbox.meta.store
        .list('adset', sandboxMetaAccount(stack.sandbox, 'SE'))
        .find((a) => a.fields.name === AD_SET)!.fields.daily_budget,
    );

  before(async () => {
    stack = await startTestStack({ allocate: true, adsPerMarket: 2 });
    acts = createActivities(stack.deps);
    const r = run('SE', D1);
    const input = { market: 'SE', date: D1 };
    await r(acts.startMarketRun, input);
    await r(acts.ingestCatalog, input);
    const { selected } = await r(acts.rankMarket, { ...input, metricsAvailable: true });
    ranked = await renderAll(r, acts, { ...input, items: selected });
  });
  after(async () => stack?.close());

  it('splits the daily budget over every market and platform, within it and each market cap', async () => {
    const result = await ensureAllocation(stack.deps, D1);
    assert.ok(result.enabled);
    assert.equal(result.reused, false);
    const rows = await allocationOn(stack.database.db, D1);
    // Four demo markets on Meta and TikTok (Google is off in this stack).
    assert.equal(rows.length, 8);
    const total = rows.reduce((s, r) => s + r.budget_micros, 0);
    assert.ok(total <= 12_000e6, `allocated ${total / 1e6} EUR of 12000`);
    assert.ok(total >= 11_999e6, 'the whole budget is used');
    const se = rows.filter((r) => r.market === 'SE').reduce((s, r) => s + r.budget_micros, 0);
    assert.ok(se <= 3500e6, "within SE's spend cap");
    for (const r of rows) assert.match(r.reason, /^starts at \d+\.\d\d EUR/);
  });

  it('creates the ad sets at the allocated budget', async () => {
    await run('SE', D1)(acts.deployCreatives, { market: 'SE', date: D1, creatives: ranked });
    const row = (await allocationOn(stack.database.db, D1)).find(
      (r) => r.market === 'SE' && r.platform === 'meta',
    )!;
    // One ad set per unit here (DEPLOY_OS android); the Meta account is in EUR too.
    assert.equal(metaBudget(), Math.floor(row.budget_micros / 1e4));
  });

  it('moves money toward the cheaper market the next day, no faster than the change limit', async () => {
    const db = stack.database.db;
    // SE on Meta registers users at a fifth of the others' cost.
    const rows = (await allocationOn(db, D1)).map((r) => ({
      platform: r.platform,
      ad_id: `seeded-${r.market}-${r.platform}`,
      date: D1,
      market: r.market,
      creative_hash: null,
      impressions: 100_000,
      clicks: 1500,
      spend_micros: r.budget_micros,
      currency: 'EUR',
      installs: 400,
      registrations: r.market === 'SE' && r.platform === 'meta' ? 500 : 100,
      subscriptions: 10,
    }));
    await db.insertInto('ad_metrics_daily').values(rows).execute();
    const result = await ensureAllocation(stack.deps, D2);
    assert.ok(result.enabled && result.changed > 0);
    const d2 = await allocationOn(db, D2);
    const seMeta = d2.find((r) => r.market === 'SE' && r.platform === 'meta')!;
    assert.ok(seMeta.budget_micros > seMeta.previous_micros!, seMeta.reason);
    assert.ok(seMeta.budget_micros <= seMeta.previous_micros! * 1.2 + 1e4);
    assert.match(seMeta.reason, /^\+\d+% to [\d.]+ EUR: the next registration costs about/);
    const others = d2.filter((r) => r.market !== 'SE');
    assert.ok(others.some((r) => r.budget_micros < r.previous_micros!));
    // A rerun of the day finds its allocation.
    const again = await ensureAllocation(stack.deps, D2);
    assert.ok(again.enabled && again.reused);
    assert.deepEqual(
      (await allocationOn(db, D2)).map((r) => r.budget_micros),
      d2.map((r) => r.budget_micros),
    );
  });

  it('shows the budget change in the plan, applies it, and audits it', async () => {
    const input = { market: 'SE', date: D2, creatives: ranked };
    await run('SE', D2)(acts.startMarketRun, { market: 'SE', date: D2 });
    const plan = await run('SE', D2)(acts.planDeployment, input);
    assert.ok(plan.counts.budget >= 1, plan.lines.join('\n'));
    const line = plan.lines.find((l) => l.includes('$ budget') && l.includes('was'));
    assert.ok(line, plan.lines.join('\n'));
    assert.match(line, /the next registration costs about/);
    const before = metaBudget();
    const result = await run('SE', D2)(acts.deployCreatives, input);
    assert.ok(result.budgets?.enabled && result.budgets.reused);
    assert.ok(result.budgetChanges! >= 1);
    const seMeta = (await allocationOn(stack.database.db, D2)).find(
      (r) => r.market === 'SE' && r.platform === 'meta',
    )!;
    assert.equal(metaBudget(), Math.floor(seMeta.budget_micros / 1e4));
    assert.ok(metaBudget() > before);
    const writes = (await listPlatformWrites(stack.database.db, { market: 'SE' })).filter(
      (w) => w.operation === 'update_adset_budget' && w.date === D2,
    );
    assert.equal(writes.length, 1);
    assert.equal(writes[0]!.result, 'ok');
    assert.match(String((writes[0]!.detail as { reason?: string }).reason), /registration/);
    // Planned again after it landed: nothing left to change.
    const after = await run('SE', D2)(acts.planDeployment, input);
    assert.equal(after.counts.budget, 0, after.lines.join('\n'));
  });

  it('makes one allocation a day when markets plan at the same time: the first writer wins', async () => {
    const D3 = addDays(D2, 1);
    const [a, b] = await Promise.all([
      ensureAllocation(stack.deps, D3),
      ensureAllocation(stack.deps, D3),
    ]);
    assert.ok(a.enabled && b.enabled);
    assert.equal(a.total, b.total);
    assert.deepEqual([a.reused, b.reused].sort(), [false, true]);
    assert.equal((await allocationOn(stack.database.db, D3)).length, 8);
  });

  it('reports each market’s budget per day with the reason for each change', async () => {
    const data = await collectReportData(stack.database.db, {
      from: D1,
      to: D2,
      fx: stack.deps.fx,
      currency: 'EUR',
      objective: 'registrations',
      now: new Date('2026-03-03T00:00:00Z'),
    });
    assert.equal(data.budgets?.length, 16, 'two days of eight units in the range');
    const html = reportHtml(data, new Map());
    assert.match(html, /data-section="budgets"/);
    assert.match(html, /data-chart="budget-by-market"/);
    assert.match(html, /data-budget="2026-03-02\/SE\/meta"/);
    assert.match(html, /the next registration costs about/);
  });
});
