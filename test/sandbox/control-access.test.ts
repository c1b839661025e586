// The sandbox's control endpoints (/__sandbox/ on the Meta port) behind a token off loopback: the
// sandbox refuses to start beyond loopback without one, refuses control requests without the
// right `Authorization: Bearer` (401), and enforces a configured token on loopback too; without a
// token on loopback (npm start, the tests) nothing changes.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { loadConfigPart } from '../../core/config.ts';
import { isLoopbackHost } from '../../core/access.ts';
import { controlTokenRequired } from '../../sandbox/control-access.ts';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import { DEMO_WORLD } from '../helpers/stack.ts';

const DATE = '2026-03-01';
const TOKEN = randomBytes(32).toString('hex');

/** The Meta port's URL on loopback, whatever interface the sandbox bound. */
const loopbackUrl = (sandbox: Sandbox) => `http://127.0.0.1:${new URL(sandbox.metaUrl).port}`;

async function control(
  sandbox: Sandbox,
  path: string,
  o: { authorization?: string; body?: unknown } = {},
) {
  const res = await fetch(`${loopbackUrl(sandbox)}/__sandbox/${path}`, {
    method: o.body === undefined ? 'GET' : 'POST',
    headers: o.authorization === undefined ? {} : { authorization: o.authorization },
    ...(o.body === undefined ? {} : { body: JSON.stringify(o.body) }),
  });
  return {
    status: res.status,
    authenticate: res.headers.get('www-authenticate'),
    body: (await res.json()) as { error?: string; today?: string },
  };
}

describe('the sandbox control token', () => {
  it('is required beyond loopback and only there', () => {
    for (const host of ['127.0.0.1', '127.0.0.2', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1'])
      assert.equal(controlTokenRequired(host), false, host);
    for (const host of ['0.0.0.0', '::', '192.0.2.2', 'fd00::2', '::ffff:192.0.2.2', 'sandbox.lan'])
      assert.equal(controlTokenRequired(host), true, host);
    assert.equal(isLoopbackHost('LOCALHOST'), true);
  });

  it('is at least 32 characters when configured (SANDBOX_CONTROL_TOKEN)', () => {
    assert.throws(
      () => loadConfigPart(['SANDBOX_CONTROL_TOKEN'], { SANDBOX_CONTROL_TOKEN: 'short' }),
      /SANDBOX_CONTROL_TOKEN: must be at least 32 characters/,
    );
    assert.equal(
      loadConfigPart(['SANDBOX_CONTROL_TOKEN'], { SANDBOX_CONTROL_TOKEN: TOKEN })
        .SANDBOX_CONTROL_TOKEN,
      TOKEN,
    );
  });

  it('must be configured to start beyond loopback: the start fails, naming the setting', async () => {
    for (const controlToken of [undefined, null, ''])
      await assert.rejects(
        startSandbox({ world: DEMO_WORLD, date: DATE, host: '0.0.0.0', controlToken }),
        (err: Error) =>
          /listen on 0\.0\.0\.0, beyond loopback.*need a token.*set SANDBOX_CONTROL_TOKEN/s.test(
            err.message,
          ),
      );
  });

  describe('beyond loopback (bound to 0.0.0.0) with a token', () => {
    let sandbox: Sandbox;
    before(async () => {
      sandbox = await startSandbox({
        world: DEMO_WORLD,
        date: DATE,
        host: '0.0.0.0',
        controlToken: TOKEN,
      });
    });
    after(async () => sandbox?.close());

    it('refuses a control request without the token: 401, saying the token is needed', async () => {
      for (const [path, body] of [
        ['status', undefined],
        ['clock', { date: '2026-04-01' }],
        ['faults', { meta: { down: true } }],
        ['catalog.jsonl', undefined],
      ] as const) {
        const r = await control(sandbox, path, body === undefined ? {} : { body });
        assert.equal(r.status, 401, path);
        assert.match(r.body.error!, /control endpoints need the control token/);
        assert.match(r.authenticate ?? '', /^Bearer /);
      }
      assert.equal(sandbox.clock.today(), DATE, 'the clock was not moved');
      assert.equal(sandbox.meta.faults.down, false, 'no fault was injected');
    });

    it('refuses a wrong token: 401', async () => {
      const other = randomBytes(32).toString('hex');
      for (const authorization of [
        `Bearer ${other}`,
        `Bearer ${TOKEN.slice(0, -1)}`,
        `Bearer ${TOKEN}x`,
        `Bearer ${TOKEN.toUpperCase()}`,
        `Basic ${TOKEN}`,
        TOKEN,
        'Bearer ',
      ]) {
        const r = await control(sandbox, 'clock', { authorization, body: { date: '2026-04-01' } });
        assert.equal(r.status, 401, authorization);
      }
      assert.equal(sandbox.clock.today(), DATE);
    });

    it('answers the right token: 200, and the change is made', async () => {
      const r = await control(sandbox, 'clock', {
        authorization: `Bearer ${TOKEN}`,
        body: { date: '2026-03-02' },
      });
      assert.equal(r.status, 200);
      assert.equal(r.body.today, '2026-03-02');
      assert.equal(sandbox.clock.today(), '2026-03-02');
      const status = await fetch(`${loopbackUrl(sandbox)}/__sandbox/status`, {
        headers: sandbox.controlHeaders(),
      });
      assert.equal(status.status, 200, 'controlHeaders() carries the token');
      sandbox.clock.set(DATE);
    });

    it('leaves the platform APIs to their own credentials', async () => {
      const { accessToken, adAccountId } = sandbox.credentials;
      const res = await fetch(
        `${loopbackUrl(sandbox)}/v24.0/${adAccountId}?fields=currency&access_token=${accessToken}`,
      );
      assert.equal(res.status, 200);
    });
  });

  describe('on loopback', () => {
    it('needs no token when none is configured', async () => {
      const sandbox = await startSandbox({ world: DEMO_WORLD, date: DATE });
      try {
        assert.deepEqual(sandbox.controlHeaders(), {});
        const r = await control(sandbox, 'status');
        assert.equal(r.status, 200);
        assert.equal(r.body.today, DATE);
      } finally {
        await sandbox.close();
      }
    });

    it('enforces a configured token', async () => {
      const sandbox = await startSandbox({ world: DEMO_WORLD, date: DATE, controlToken: TOKEN });
      try {
        assert.equal((await control(sandbox, 'status')).status, 401);
        assert.equal(
          (await control(sandbox, 'status', { authorization: `Bearer ${'0'.repeat(64)}` })).status,
          401,
        );
        const r = await control(sandbox, 'status', { authorization: `Bearer ${TOKEN}` });
        assert.equal(r.status, 200);
      } finally {
        await sandbox.close();
      }
    });
  });
});
