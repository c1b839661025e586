// `adloop check` against the sandbox, through the real clients: the demo's accounts pass, and each
// broken configuration an operator meets on day one is named with its fix: a missing or wrong app
// id, an expired or revoked token, a wrong page, a disabled account.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseAccounts, type AccountsFile, type AccountsInput } from '../../core/accounts.ts';
import { gatherPreflightFacts, type PreflightClients } from '../../ops/preflight-facts.ts';
import { judgePreflight, type Finding } from '../../ops/preflight.ts';
import { createMetaAds } from '../../platforms/meta/meta-ads.ts';
import { createTikTokAds } from '../../platforms/tiktok/tiktok-ads.ts';
import { createGoogleAds } from '../../platforms/google/google-ads.ts';
import { sandboxAccounts } from '../../sandbox/accounts.ts';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import { DEMO_WORLD } from '../helpers/stack.ts';

describe('adloop check against the sandbox', () => {
  let sandbox: Sandbox;
  before(async () => {
    sandbox = await startSandbox({ world: DEMO_WORLD, date: '2026-03-01' });
  });
  after(() => sandbox.close());

  /** Clients as the worker makes them (fresh each check, so no cached account facts). */
  const clients = (file: AccountsFile): PreflightClients => ({
    meta: (adAccountId) =>
      createMetaAds({
        graphUrl: sandbox.metaUrl,
        accessToken: sandbox.credentials.accessToken,
        adAccountId,
        pageId: file.meta!.accounts.find((a) => a.id === adAccountId)!.pageId,
      }),
    tiktok: (advertiserId) =>
      createTikTokAds({
        baseUrl: sandbox.tiktokUrl,
        accessToken: sandbox.tiktokCredentials.accessToken,
        advertiserId,
      }),
    google: (customerId) =>
      createGoogleAds({
        restUrl: sandbox.googleUrls.rest,
        grpcUrl: sandbox.googleUrls.grpc,
        tokenUrl: sandbox.googleUrls.token,
        ...sandbox.googleCredentials,
        customerId,
        loginCustomerId: file.google?.customers.find((c) => c.id === customerId)?.loginCustomerId,
      }),
  });
  async function check(
    change: (a: AccountsInput) => void = () => undefined,
    objective: 'installs' | 'registrations' = 'installs',
  ): Promise<Finding[]> {
    const input = structuredClone(sandboxAccounts(sandbox.world));
    change(input);
    const file = parseAccounts(input);
    const facts = await gatherPreflightFacts(file, clients(file));
    return judgePreflight(file, facts, new Date(), objective);
  }
  const failures = (findings: Finding[]) =>
    findings.filter((f) => f.level === 'fail').map((f) => `${f.subject}: ${f.message}`);

  it('passes the sandbox’s own accounts: two Meta accounts in two currencies, one advertiser', async () => {
    const findings = await check();
    assert.deepEqual(failures(findings), []);
    // The sandbox's app logs registrations, so ad sets may optimise for them too.
    const registrations = await check(undefined, 'registrations');
    assert.deepEqual(failures(registrations), []);
    assert.ok(registrations.some((f) => f.message === 'logs fb_mobile_complete_registration'));
    const ok = findings.map((f) => `${f.subject}: ${f.message}`);
    assert.ok(
      ok.includes(
        'meta act_1000000001 (SE, DE): active, EUR, Europe/Stockholm (report days are its calendar days)',
      ),
    );
    assert.ok(
      ok.includes(
        'meta act_1000000002 (BR, EG): active, USD, America/Sao_Paulo (report days are its calendar days)',
      ),
    );
  });

  it('checks the Google Ads customer and what the developer token’s access level reaches', async () => {
    const ok = (await check()).map((f) => `${f.subject}: ${f.message}`);
    const cid = sandbox.googleCredentials.customerId.replace(/(\d{3})(\d{3})(\d{4})/, '$1-$2-$3');
    assert.ok(
      ok.some((l) => l.startsWith(`google ${cid} `) && l.includes('reaches production accounts')),
      ok.join('\n'),
    );
    assert.ok(
      ok.some((l) => l.includes('counts installs from Install')),
      ok.join('\n'),
    );
    const level = sandbox.world.google.accessLevel;
    sandbox.world.google.accessLevel = 'TEST_ACCOUNT';
    try {
      const failed = failures(await check());
      assert.equal(failed.length, 1, failed.join('\n'));
      assert.match(
        failed[0]!,
        /Test Account access only: it cannot reach this production customer/,
      );
    } finally {
      sandbox.world.google.accessLevel = level;
    }
    const missing = failures(
      await check((a) => {
        a.google!.customers[0]!.conversions.installs = ['Firebase first_open'];
      }),
    );
    assert.deepEqual(missing, [
      `google ${cid} (SE, DE, BR, EG): has no enabled conversion action named Firebase first_open for installs`,
    ]);
  });

  it('names a TikTok app id the advertiser does not have', async () => {
    const findings = await check((a) => {
      a.tiktok!.advertisers[0]!.appIds.ios = '7299999999999999999';
    });
    assert.deepEqual(failures(findings), [
      'tiktok 7000000000000000001 (SE, DE, BR, EG): has no ios app 7299999999999999999 in its app management',
    ]);
  });

  it('names a missing app id before any platform is asked', () => {
    const input = structuredClone(sandboxAccounts(sandbox.world));
    delete input.tiktok!.advertisers[0]!.appIds.android;
    assert.throws(
      () => parseAccounts(input, 'accounts.json'),
      /tiktok\.advertisers\[0\]\.appIds\.android: required: the app is in the Play Store/,
    );
  });

  it('names an expired Meta token and a revoked TikTok token, with how to rotate them', async () => {
    sandbox.meta.faults.tokenExpired = true;
    sandbox.tiktok.faults.tokenRevoked = true;
    try {
      const findings = (await check()).filter((f) => f.level === 'fail');
      const token = findings.find((f) => f.subject === 'meta token')!;
      assert.equal(token.message, 'is expired or revoked');
      assert.match(token.fix!, /rotate META_ACCESS_TOKEN/);
      const tiktok = findings.find((f) => f.subject.startsWith('tiktok '))!;
      assert.match(tiktok.message, /cannot be read: tiktok auth error \(code 40105\)/);
      assert.match(tiktok.fix!, /rotate TIKTOK_ACCESS_TOKEN/);
    } finally {
      sandbox.meta.faults.tokenExpired = false;
      sandbox.tiktok.faults.tokenRevoked = false;
    }
  });

  it('names a page the token cannot read', async () => {
    const findings = await check((a) => {
      a.meta!.accounts[1]!.pageId = '2999999999';
    });
    const [only, ...rest] = failures(findings);
    assert.deepEqual(rest, []);
    assert.match(
      only!,
      /^meta act_1000000002 \(BR, EG\): page 2999999999 cannot be read: meta invalid error \(code 100\): Unsupported get request/,
    );
  });

  it('names a disabled ad account', async () => {
    sandbox.meta.setAccountStatus('act_1000000002', 2);
    try {
      assert.deepEqual(failures(await check()), ['meta act_1000000002 (BR, EG): is disabled']);
    } finally {
      sandbox.meta.setAccountStatus('act_1000000002', 1);
    }
  });
});
