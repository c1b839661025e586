// Payload encryption (AES-256-GCM) and the codec server the Temporal UI decodes through.
import { defaultPayloadConverter } from '@temporalio/common';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { startCodecServer } from '../../ops/codec-server.ts';
import { ENCRYPTED_ENCODING, payloadCodecFrom } from '../../core/payload-codec.ts';

const key = () => randomBytes(32).toString('base64');
const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? []).toString('utf8');

describe('payload codec', () => {
  const value = { market: 'SE', accessToken: 'not-a-real-token' };
  const payload = defaultPayloadConverter.toPayload(value);

  it('seals a payload whole and opens it again', async () => {
    const codec = payloadCodecFrom({ PAYLOAD_KEY: key(), PAYLOAD_KEY_ID: 'k1' })!;
    const [sealed] = await codec.encode([payload]);
    assert.equal(text(sealed!.metadata!.encoding), ENCRYPTED_ENCODING);
    assert.equal(text(sealed!.metadata!['encryption-key-id']), 'k1');
    assert.ok(!text(sealed!.data).includes('SE') && !text(sealed!.data).includes('not-a-real'));
    const [opened] = await codec.decode([sealed!]);
    assert.deepEqual(defaultPayloadConverter.fromPayload(opened!), value);
    // Two encodings of the same value differ (random IV).
    const [again] = await codec.encode([payload]);
    assert.notDeepEqual(Buffer.from(again!.data!), Buffer.from(sealed!.data!));
  });

  it('refuses tampered payloads and keys it does not hold, and reads old keys', async () => {
    const old = key();
    const before = payloadCodecFrom({ PAYLOAD_KEY: old, PAYLOAD_KEY_ID: 'old' })!;
    const [sealed] = await before.encode([payload]);
    const rotated = payloadCodecFrom({
      PAYLOAD_KEY: key(),
      PAYLOAD_KEY_ID: 'new',
      PAYLOAD_KEYS_PREVIOUS: `old:${old}`,
    })!;
    assert.deepEqual(
      defaultPayloadConverter.fromPayload((await rotated.decode([sealed!]))[0]!),
      value,
    );
    const stranger = payloadCodecFrom({ PAYLOAD_KEY: key(), PAYLOAD_KEY_ID: 'new' })!;
    await assert.rejects(
      stranger.decode([sealed!]),
      /key id "old", which this process does not hold/,
    );
    const bad = Buffer.from(sealed!.data!);
    bad[20]! ^= 1;
    await assert.rejects(before.decode([{ ...sealed!, data: bad }]), /tampered or wrong key/);
    // Plain payloads (written before encryption was turned on) pass through.
    assert.deepEqual(await before.decode([payload]), [payload]);
  });

  it('is off without a key, and names a malformed one', () => {
    assert.equal(payloadCodecFrom({}), null);
    assert.throws(
      () => payloadCodecFrom({ PAYLOAD_KEY: 'c2hvcnQ=' }),
      /PAYLOAD_KEY must be 32 bytes/,
    );
    assert.throws(
      () => payloadCodecFrom({ PAYLOAD_KEY: key(), PAYLOAD_KEYS_PREVIOUS: 'nokey' }),
      /PAYLOAD_KEYS_PREVIOUS must be a comma list/,
    );
  });

  it('serves /decode and /encode to the Temporal UI’s origin only', async () => {
    const codec = payloadCodecFrom({ PAYLOAD_KEY: key() })!;
    const ui = 'http://localhost:8233';
    const server = await startCodecServer(codec, { origins: [ui] });
    try {
      const [sealed] = await codec.encode([payload]);
      const asJson = {
        metadata: Object.fromEntries(
          Object.entries(sealed!.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
        ),
        data: Buffer.from(sealed!.data!).toString('base64'),
      };
      const res = await fetch(`${server.url}/decode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: ui, 'x-namespace': 'default' },
        body: JSON.stringify({ payloads: [asJson] }),
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('access-control-allow-origin'), ui);
      const body = (await res.json()) as { payloads: Array<{ data: string }> };
      assert.deepEqual(JSON.parse(Buffer.from(body.payloads[0]!.data, 'base64').toString()), value);
      const preflight = await fetch(`${server.url}/decode`, {
        method: 'OPTIONS',
        headers: { origin: 'http://evil.example' },
      });
      assert.equal(preflight.status, 403);
      const wrong = await fetch(`${server.url}/decode`, { method: 'POST', body: '{}' });
      assert.equal(wrong.status, 400);
    } finally {
      await server.close();
    }
  });
});
