// `adloop check`'s judgement of what the platforms say about the accounts file: every account
// ready gives only ok lines; each broken piece gives one failing line that names it and the fix.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadAccounts } from '../../core/accounts.ts';
import {
  formatFindings,
  judgePreflight,
  META_SCOPES,
  type PreflightFacts,
} from '../../ops/preflight.ts';
import { ROOT } from '../helpers/stack.ts';

const file = loadAccounts(path.join(ROOT, 'config/accounts.example.json'));
const NOW = new Date('2026-12-05T00:00:00Z');

function healthy(): PreflightFacts {
  return {
    meta: {
      token: { valid: true, expiresAt: null, scopes: [...META_SCOPES] },
      accounts: {
        act_111111111111111: {
          id: 'act_111111111111111',
          status: 1,
          currency: 'EUR',
          timeZone: 'Europe/Stockholm',
        },
        act_333333333333333: {
          id: 'act_333333333333333',
          status: 1,
          currency: 'JPY',
          timeZone: 'Asia/Tokyo',
        },
      },
      pages: { '222222222222222': { id: '222222222222222', name: 'Your Music' } },
      app: {
        id: '123456789012345',
        storeUrls: [
          'https://apps.apple.com/app/id1234567890',
          'https://play.google.com/store/apps/details?id=com.example.music',
        ],
        events: ['fb_mobile_activate_app', 'fb_mobile_complete_registration'],
      },
    },
    tiktok: {
      advertisers: {
        '7000000000000000000': {
          id: '7000000000000000000',
          status: 'STATUS_ENABLE',
          currency: 'USD',
          timeZone: 'Etc/GMT',
          identities: [{ type: 'CUSTOMIZED_USER', id: '7100000000000000000' }],
          apps: [
            { id: '7200000000000000001', platform: 'IOS' },
            { id: '7200000000000000002', platform: 'ANDROID' },
          ],
        },
      },
    },
    tiktokConfigured: true,
    google: {
      customers: {
        '1234567890': {
          id: '1234567890',
          name: 'Your Music',
          status: 'ENABLED',
          currency: 'EUR',
          timeZone: 'Europe/Stockholm',
          testAccount: false,
          manager: false,
          conversionActions: [
            { name: 'Adjust install', status: 'ENABLED' },
            { name: 'Adjust sign_up', status: 'ENABLED' },
          ],
        },
      },
    },
    googleConfigured: true,
  };
}

const failing = (facts: PreflightFacts, f = file) =>
  judgePreflight(f, facts, NOW).filter((x) => x.level === 'fail');

describe('adloop check (preflight judgement)', () => {
  it('passes a ready configuration with one ok line per fact', () => {
    const findings = judgePreflight(file, healthy(), NOW);
    assert.deepEqual(
      findings.filter((f) => f.level !== 'ok'),
      [],
    );
    const lines = formatFindings(findings);
    assert.ok(lines.some((l) => /meta act_111111111111111 \(SE, DE\): active, EUR/.test(l)));
    assert.ok(lines.some((l) => /tiktok 7000000000000000000 .*promotes ios app/.test(l)));
    assert.ok(
      lines.some((l) =>
        /google 123-456-7890 \(SE, DE, BR, EG\): enabled, EUR, .*reaches production accounts/.test(
          l,
        ),
      ),
    );
    assert.ok(
      lines.some((l) => /google 123-456-7890 .*counts installs from Adjust install/.test(l)),
    );
  });

  it('names a developer token with Test Account access only, and a manager or test customer', () => {
    const facts = healthy();
    facts.google!.customers['1234567890'] = {
      error:
        'google auth error: AuthorizationError.DEVELOPER_TOKEN_NOT_APPROVED: The developer token is only approved for use with test accounts (request id r1)',
    };
    const [testOnly] = failing(facts);
    assert.equal(testOnly!.subject, 'google 123-456-7890 (SE, DE, BR, EG)');
    assert.match(testOnly!.message, /Test Account access only/);
    assert.match(testOnly!.fix!, /apply for Basic access/);

    const manager = healthy();
    (manager.google!.customers['1234567890'] as { manager: boolean }).manager = true;
    assert.match(failing(manager)[0]!.message, /is a manager account/);

    const test = healthy();
    (test.google!.customers['1234567890'] as { testAccount: boolean }).testAccount = true;
    const warn = judgePreflight(file, test, NOW).filter((f) => f.level === 'warn');
    assert.match(warn[0]!.message, /test accounts serve no ads/);
  });

  it('names a missing Google conversion action, and Google credentials not set', () => {
    const facts = healthy();
    (facts.google!.customers['1234567890'] as { conversionActions: unknown[] }).conversionActions =
      [{ name: 'Adjust install', status: 'ENABLED' }];
    assert.deepEqual(failing(facts), [], 'installs need only the install action');
    assert.deepEqual(
      judgePreflight(file, facts, NOW, 'registrations')
        .filter((f) => f.level === 'fail')
        .map((f) => f.message),
      ['has no enabled conversion action named Adjust sign_up for registrations'],
    );
    const unset = { ...healthy(), google: null, googleConfigured: false };
    const warn = judgePreflight(file, unset, NOW).find((f) => f.subject === 'google');
    assert.match(warn!.message, /GOOGLE_ADS_DEVELOPER_TOKEN is not set/);
  });

  it('names an expired token, and one about to expire', () => {
    const facts = healthy();
    facts.meta!.token = { valid: false, expiresAt: null, scopes: [] };
    assert.match(failing(facts)[0]!.message, /is expired or revoked/);
    assert.match(failing(facts)[0]!.fix!, /rotate META_ACCESS_TOKEN/);
    facts.meta!.token = { valid: true, expiresAt: '2026-12-10T00:00:00Z', scopes: META_SCOPES };
    const warn = judgePreflight(file, facts, NOW).find((f) => f.level === 'warn');
    assert.match(warn!.message, /expires in 5 days/);
  });

  it('names a missing permission, a disabled account and a wrong page', () => {
    const facts = healthy();
    facts.meta!.token = { valid: true, expiresAt: null, scopes: ['ads_read'] };
    facts.meta!.accounts.act_333333333333333 = {
      id: 'act_333333333333333',
      status: 2,
      currency: 'JPY',
      timeZone: 'Asia/Tokyo',
    };
    facts.meta!.pages = { '222222222222222': { error: '(#100) Object does not exist' } };
    const messages = failing(facts).map((f) => `${f.subject}: ${f.message}`);
    assert.ok(
      messages.includes(
        'meta token: lacks the permissions ads_management, pages_show_list, pages_read_engagement',
      ),
    );
    assert.ok(messages.includes('meta act_333333333333333 (BR, EG): is disabled'));
    assert.ok(
      messages.includes(
        'meta act_111111111111111 (SE, DE): page 222222222222222 cannot be read: (#100) Object does not exist',
      ),
    );
  });

  it('names a TikTok app id the advertiser does not have, and a wrong identity', () => {
    const facts = healthy();
    const adv = facts.tiktok!.advertisers['7000000000000000000'] as {
      apps: unknown[];
      identities: unknown[];
    };
    adv.apps = [{ id: '7200000000000000002', platform: 'ANDROID' }];
    adv.identities = [];
    const messages = failing(facts).map((f) => f.message);
    assert.deepEqual(messages, [
      'has no identity CUSTOMIZED_USER 7100000000000000000',
      'has no ios app 7200000000000000001 in its app management',
    ]);
  });

  it('names a budget the account’s currency cannot express', () => {
    const withCents = {
      ...file,
      markets: { ...file.markets, BR: { dailyBudget: { meta: '49.90' }, trackingLinks: {} } },
    };
    const messages = failing(healthy(), withCents).map((f) => f.message);
    assert.deepEqual(messages, [
      'markets.BR.dailyBudget.meta: 49.90 JPY has 1 decimals; JPY has none',
    ]);
  });

  it('names a registration event the app never logged, when ad sets optimise for registrations', () => {
    const facts = healthy();
    assert.deepEqual(failing(facts).length, 0);
    const app = facts.meta!.app as { events: string[] };
    app.events = ['fb_mobile_activate_app'];
    assert.deepEqual(failing(facts), [], 'installs need no app event');
    const failed = judgePreflight(file, facts, NOW, 'registrations').filter(
      (f) => f.level === 'fail',
    );
    assert.deepEqual(
      failed.map((f) => f.message),
      [
        'has never logged fb_mobile_complete_registration, which ad sets optimising for registrations need',
      ],
    );
  });

  it('names a store URL the Meta app is not registered with', () => {
    const facts = healthy();
    facts.meta!.app = { id: '123456789012345', storeUrls: [], events: [] };
    assert.deepEqual(
      failing(facts).map((f) => f.message),
      [
        'does not list https://apps.apple.com/app/id1234567890 (it lists no store)',
        'does not list https://play.google.com/store/apps/details?id=com.example.music (it lists no store)',
      ],
    );
  });
});
