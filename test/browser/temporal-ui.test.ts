// What an operator sees in the Temporal Web UI: a real daily loop for two markets runs on the dev
// server `npm test` starts with its UI (real activities over the sandbox), then Chromium, driven by
// playwright-core, opens the UI's workflow list filtered by the Market search attribute and a run's
// page. The UI is a single-page app that fills its pages from its HTTP API, and visibility may lag a
// run's completion, so every step waits for what it expects to see, never for a fixed time.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { dailyLoopWorkflowId, marketLoopWorkflowId } from '../../core/ids.ts';
import { dailyLoop } from '../../workflows/index.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';
import { startLoopWorkers, testEnvironment } from '../helpers/temporal.ts';

const UI_URL = process.env.TEMPORAL_TEST_UI_URL?.replace(/\/+$/, '');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// A date no other test runs, so the shared server holds exactly one run of each market-day here.
const DATE = '2026-04-14';
const SE = marketLoopWorkflowId('SE', DATE);
const DE = marketLoopWorkflowId('DE', DATE);
const NAMESPACE = 'default';

// The UI belongs to the server at TEMPORAL_TEST_ADDRESS: without both there is no UI to look at.
const skip = !UI_URL
  ? 'TEMPORAL_TEST_UI_URL is not set: run it through `npm test`, which starts the dev server with its Web UI'
  : !process.env.TEMPORAL_TEST_ADDRESS
    ? 'TEMPORAL_TEST_UI_URL is set without TEMPORAL_TEST_ADDRESS, the server that UI shows'
    : !fs.existsSync(CHROMIUM)
      ? `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`
      : false;

/** Polls `check` until it returns true; fails with `what` (and the last value seen) after `ms`. */
async function waitUntil(
  what: string,
  check: () => Promise<boolean | { ok: boolean; seen: unknown }>,
  ms: number,
): Promise<void> {
  const deadline = Date.now() + ms;
  let seen: unknown;
  for (;;) {
    const r = await check();
    if (typeof r === 'boolean' ? r : r.ok) return;
    if (typeof r !== 'boolean') seen = r.seen;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${ms} ms waiting for ${what}; saw ${JSON.stringify(seen)}`);
    await sleep(250);
  }
}

const listUrl = (query: string) =>
  `${UI_URL}/namespaces/${NAMESPACE}/workflows?query=${encodeURIComponent(query)}`;

describe('the Temporal UI shows the daily loop’s runs', { skip }, () => {
  let env: TestWorkflowEnvironment;
  let stack: TestStack;
  let browser: Browser;
  let page: Page;
  const shots = fs.mkdtempSync(path.join(os.tmpdir(), 'adloop-ui-'));
  let failed = false;

  /** Each row's text in the workflow list (UI 2.42's table): status, workflow id, run id, type. */
  const rowTexts = () =>
    page.locator('[data-testid="workflows-summary-configurable-table-row"]').allInnerTexts();

  before(async () => {
    env = await testEnvironment();
    stack = await startTestStack({ date: DATE });
    const workers = await startLoopWorkers(env, stack.deps, 'ui');
    try {
      const result = await env.client.workflow.execute(dailyLoop, {
        workflowId: dailyLoopWorkflowId(DATE),
        taskQueue: workers.taskQueue,
        args: [{ date: DATE, markets: ['SE', 'DE'], renderTaskQueue: workers.renderTaskQueue }],
      });
      assert.deepEqual(
        result.markets.map((m) => [m.market, m.status]),
        [
          ['SE', 'completed'],
          ['DE', 'completed'],
        ],
      );
    } finally {
      // The UI only reads what the server recorded: nothing needs the workers from here on.
      await workers.stop();
    }
    // Visibility is updated after the run's history; the UI lists from visibility.
    await waitUntil(
      'both market runs to be visible as completed',
      async () => {
        let n = 0;
        for await (const run of env.client.workflow.list({
          query: `WorkflowId IN ("${SE}", "${DE}") AND ExecutionStatus = "Completed"`,
        }))
          if (run.workflowId === SE || run.workflowId === DE) n++;
        return { ok: n === 2, seen: `${n} of 2` };
      },
      15_000,
    );
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(30_000);
  });

  after(async () => {
    await browser?.close();
    await stack?.close();
    await env?.teardown();
    if (!failed) fs.rmSync(shots, { recursive: true, force: true });
  });

  /** Runs `fn`; when it fails, keeps a screenshot of what the browser showed and says where. */
  const step = (name: string, fn: () => Promise<void>) => async () => {
    try {
      await fn();
    } catch (err) {
      failed = true;
      const file = path.join(shots, `failed-${name}.png`);
      await page?.screenshot({ path: file, fullPage: true }).catch(() => undefined);
      console.error(`temporal-ui: the page when "${name}" failed is in ${file}`);
      throw err;
    }
  };

  it(
    'lists the SE run and not the DE run when filtered by Market = "SE"',
    { timeout: 60_000 },
    step('list', async () => {
      await page.goto(listUrl('Market = "SE"'));
      // The filter bar took the query from the URL: a Market filter whose value is SE (its input
      // lives in the chip's dropdown, hidden until opened).
      const chip = page.getByTestId('dropdown-filter-chip-Market-0-text');
      await chip.waitFor({ state: 'attached' });
      assert.equal(await chip.inputValue(), 'SE');
      // Wait for the filtered list: our SE run there and every row an SE market run (the shared
      // server also holds other tests' SE runs; none of any other market may show).
      await waitUntil(
        `${SE} listed, and only SE runs`,
        async () => {
          const rows = await rowTexts();
          return {
            ok: rows.some((r) => r.includes(SE)) && rows.every((r) => r.includes('market/SE/')),
            seen: rows,
          };
        },
        30_000,
      );
      const rows = await rowTexts();
      assert.ok(!rows.some((r) => r.includes(DE)), `${DE} must not be listed: ${rows.join(' | ')}`);
      assert.equal(await page.getByRole('link', { name: DE, exact: true }).count(), 0);

      // The control: the DE run is in the UI, so its absence above is the filter's doing.
      await page.goto(listUrl('Market = "DE"'));
      await page.getByRole('link', { name: DE, exact: true }).first().waitFor();
      assert.equal(await page.getByRole('link', { name: SE, exact: true }).count(), 0);
    }),
  );

  it(
    'opens the SE run’s page: its id, type and Completed status',
    { timeout: 60_000 },
    step('run-page', async () => {
      await page.goto(listUrl(`Market = "SE" AND WorkflowId = "${SE}"`));
      // Reach the run the way an operator does: from its link in the list.
      await page.getByRole('link', { name: SE, exact: true }).first().click();
      await page.waitForURL(
        (url) =>
          url.pathname.startsWith(`/namespaces/${NAMESPACE}/workflows/`) &&
          /\/history$/.test(url.pathname),
      );
      assert.ok(
        decodeURIComponent(new URL(page.url()).pathname).includes(`/workflows/${SE}/`),
        page.url(),
      );
      const heading = page.getByTestId('workflow-id-heading');
      await heading.waitFor();
      assert.ok((await heading.innerText()).includes(SE), await heading.innerText());
      await page.getByText('Completed', { exact: true }).first().waitFor();
      await page.getByText('marketLoop', { exact: true }).first().waitFor();

      const file = path.join(shots, 'market-se.png');
      await page.screenshot({ path: file, fullPage: true });
      const size = fs.statSync(file).size;
      // A blank or error page is a few kilobytes; the run's page with its history is far more.
      assert.ok(size > 30_000, `screenshot is only ${size} bytes`);
    }),
  );
});
