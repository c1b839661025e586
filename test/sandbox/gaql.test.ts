// The Google sandbox's GAQL parser and evaluator: syntax, the schema check with Google's
// QueryError codes, and evaluation over flat rows.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkGaql,
  evaluateGaql,
  flatten,
  GaqlError,
  parseGaql,
} from '../../sandbox/google/gaql.ts';
import { GOOGLE_SCHEMA } from '../../sandbox/google/google-fields.ts';
import { isErrorCode } from '../../sandbox/google/google-protos.ts';

const TODAY = '2026-03-10';
const check = (q: string) => checkGaql(q, GOOGLE_SCHEMA, TODAY);
const refused = (q: string, code: string) =>
  assert.throws(
    () => check(q),
    (e: unknown) => {
      assert.ok(e instanceof GaqlError, String(e));
      assert.equal(e.code, code, e.message);
      assert.ok(isErrorCode('query_error', code), `${code} is a v24 QueryError`);
      return true;
    },
  );

describe('GAQL', () => {
  it('parses every clause', () => {
    const q = parseGaql(
      "SELECT campaign.id, campaign.name FROM campaign WHERE campaign.status IN (ENABLED, PAUSED) AND campaign.name LIKE 'adloop%' ORDER BY campaign.id DESC, campaign.name LIMIT 5 PARAMETERS include_drafts = true",
    );
    assert.deepEqual(q.select, ['campaign.id', 'campaign.name']);
    assert.equal(q.from, 'campaign');
    assert.deepEqual(q.where[0], {
      field: 'campaign.status',
      op: 'IN',
      values: ['ENABLED', 'PAUSED'],
    });
    assert.deepEqual(q.where[1], { field: 'campaign.name', op: 'LIKE', values: ['adloop%'] });
    assert.deepEqual(q.orderBy, [
      { field: 'campaign.id', desc: true },
      { field: 'campaign.name', desc: false },
    ]);
    assert.equal(q.limit, 5);
    assert.deepEqual(q.parameters, { include_drafts: 'true' });
  });

  it('refuses bad syntax with QueryError codes', () => {
    refused('campaign.id FROM campaign', 'EXPECTED_SELECT');
    refused('SELECT campaign.id campaign', 'EXPECTED_FROM');
    refused("SELECT campaign.id FROM campaign WHERE campaign.name = 'x", 'STRING_NOT_TERMINATED');
    refused('SELECT campaign.id FROM campaign LIMIT 0', 'LIMIT_VALUE_TOO_LOW');
    refused('SELECT campaign.id FROM campaign LIMIT x', 'BAD_LIMIT_VALUE');
    refused('SELECT campaign.id FROM campaign WHERE campaign.id ~ 3', 'BAD_SYMBOL');
    refused(
      'SELECT campaign.id FROM campaign WHERE campaign.status IN ()',
      'PROHIBITED_EMPTY_LIST_IN_CONDITION',
    );
    refused('SELECT campaign.id FROM campaign WHERE campaign.status IN ENABLED', 'EXPECTED_LIST');
    refused('SELECT campaign.id FROM campaign garbage', 'UNEXPECTED_INPUT');
    refused('SELECT campaign.id FROM campaign WHERE', 'UNEXPECTED_END_OF_QUERY');
    refused('SELECT campaign.id FROM campaign PARAMETERS foo = true', 'BAD_PARAMETER_NAME');
  });

  it('checks fields against the resources', () => {
    refused('SELECT campaign.nmae FROM campaign', 'UNRECOGNIZED_FIELD');
    refused('SELECT campaign.id FROM campaigns', 'BAD_RESOURCE_TYPE_IN_FROM_CLAUSE');
    refused('SELECT asset.id FROM campaign', 'PROHIBITED_RESOURCE_TYPE_IN_SELECT_CLAUSE');
    refused(
      'SELECT campaign.id, metrics.impressions FROM campaign_budget',
      'PROHIBITED_RESOURCE_TYPE_IN_SELECT_CLAUSE',
    );
    refused(
      'SELECT campaign_budget.id, metrics.impressions FROM campaign_budget',
      'PROHIBITED_METRIC_IN_SELECT_OR_WHERE_CLAUSE',
    );
    refused(
      'SELECT campaign.id, segments.conversion_action FROM campaign',
      'PROHIBITED_SEGMENT_IN_SELECT_OR_WHERE_CLAUSE',
    );
    refused("SELECT campaign.id FROM campaign WHERE campaign.status = 'LIVE'", 'BAD_ENUM_CONSTANT');
    refused(
      "SELECT campaign.id FROM campaign WHERE campaign.id LIKE '1%'",
      'OPERATOR_FIELD_MISMATCH',
    );
    refused("SELECT campaign.id FROM campaign WHERE campaign.id = 'abc'", 'BAD_NUMBER');
  });

  it('needs a finite date range with segments.date and keeps conversion segments off traffic metrics', () => {
    refused(
      'SELECT campaign.id, metrics.impressions, segments.date FROM campaign',
      'EXPECTED_FILTERS_ON_DATE_RANGE',
    );
    refused(
      "SELECT campaign.id, segments.date FROM campaign WHERE segments.date >= '2026-03-01'",
      'EXPECTED_FILTERS_ON_DATE_RANGE',
    );
    refused(
      "SELECT campaign.id, segments.date FROM campaign WHERE segments.date BETWEEN '2026-03-01' AND 'soon'",
      'INVALID_VALUE_WITH_BETWEEN_OPERATOR',
    );
    refused(
      'SELECT campaign.id, segments.date FROM campaign WHERE segments.date DURING LAST_9_DAYS',
      'INVALID_VALUE_WITH_DURING_OPERATOR',
    );
    refused(
      "SELECT campaign.id, segments.date FROM campaign WHERE segments.date = '2026-02-30'",
      'INVALID_DATE_FORMAT',
    );
    refused(
      'SELECT ad_group_ad_asset_view.asset, segments.conversion_action, metrics.impressions FROM ad_group_ad_asset_view',
      'PROHIBITED_SEGMENT_WITH_METRIC_IN_SELECT_OR_WHERE_CLAUSE',
    );
    refused(
      "SELECT ad_group_ad_asset_view.asset, metrics.conversions FROM ad_group_ad_asset_view WHERE segments.conversion_action_name = 'Install'",
      'EXPECTED_REFERENCED_FIELD_IN_SELECT_CLAUSE',
    );
    const q = check(
      'SELECT ad_group_ad_asset_view.asset, segments.date, metrics.impressions FROM ad_group_ad_asset_view WHERE segments.date DURING LAST_7_DAYS',
    );
    assert.deepEqual(q.dateRange, ['2026-03-03', '2026-03-09']);
    const b = check(
      "SELECT campaign.id, segments.date FROM campaign WHERE segments.date BETWEEN '2026-03-01' AND '2026-03-05' AND segments.date <= '2026-03-04'",
    );
    assert.deepEqual(b.dateRange, ['2026-03-01', '2026-03-04']);
    assert.deepEqual(
      check('SELECT campaign.id FROM campaign WHERE segments.date DURING YESTERDAY').dateRange,
      ['2026-03-09', '2026-03-09'],
    );
  });

  it('evaluates WHERE, ORDER BY and LIMIT and nests the selected fields', () => {
    const rows = [
      flatten('campaign', {
        resource_name: 'customers/1/campaigns/1',
        id: '1',
        name: 'adloop US ios',
        status: 'ENABLED',
      }),
      flatten('campaign', {
        resource_name: 'customers/1/campaigns/2',
        id: '2',
        name: 'adloop US android',
        status: 'PAUSED',
      }),
      flatten('campaign', {
        resource_name: 'customers/1/campaigns/10',
        id: '10',
        name: 'other',
        status: 'REMOVED',
      }),
    ];
    const run = (q: string) => evaluateGaql(check(q), rows, TODAY);
    assert.deepEqual(
      run(
        "SELECT campaign.id, campaign.name FROM campaign WHERE campaign.name LIKE 'adloop%' ORDER BY campaign.id DESC",
      ),
      [
        {
          campaign: {
            resource_name: 'customers/1/campaigns/2',
            id: '2',
            name: 'adloop US android',
          },
        },
        { campaign: { resource_name: 'customers/1/campaigns/1', id: '1', name: 'adloop US ios' } },
      ],
    );
    // int64 order is numeric, not lexical.
    assert.deepEqual(
      run('SELECT campaign.id FROM campaign ORDER BY campaign.id DESC LIMIT 1').map(
        (r) => (r.campaign as { id: string }).id,
      ),
      ['10'],
    );
    assert.equal(
      run('SELECT campaign.id FROM campaign WHERE campaign.status NOT IN (REMOVED)').length,
      2,
    );
    assert.equal(
      run('SELECT campaign.id FROM campaign WHERE campaign.status != ENABLED').length,
      2,
    );
    assert.equal(run('SELECT campaign.id FROM campaign WHERE campaign.id > 1').length, 2);
    assert.equal(
      run("SELECT campaign.id FROM campaign WHERE campaign.name NOT LIKE '%US%'").length,
      1,
    );
  });
});
