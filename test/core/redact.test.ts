// Secrets out of messages: a URL keeps what tells an operator which it was (scheme, host, port,
// path, the query's names) and loses what may be a credential (user info, query values, fragment).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redact, redactUrl } from '../../core/redact.ts';
import { toFailure } from '../../activities/stage.ts';
import { CatalogError } from '../../core/catalog.ts';

describe('redactUrl', () => {
  it('replaces user info', () => {
    assert.equal(
      redactUrl('https://user:pa55@catalog.example.com:8443/v1/artists.csv'),
      'https://[redacted]@catalog.example.com:8443/v1/artists.csv',
    );
    assert.equal(redactUrl('https://only-a-token@host/x'), 'https://[redacted]@host/x');
    assert.equal(
      redactUrl('postgres://adloop:s3cret@db:5432/adloop'),
      'postgres://[redacted]@db:5432/adloop',
    );
  });

  it("keeps each query parameter's name, not its value", () => {
    assert.equal(
      redactUrl('https://bucket.s3.amazonaws.com/c.jsonl?X-Amz-Signature=abc123&X-Amz-Expires=60'),
      'https://bucket.s3.amazonaws.com/c.jsonl?X-Amz-Signature=[redacted]&X-Amz-Expires=[redacted]',
    );
    assert.equal(
      redactUrl('https://graph.facebook.com/v24.0/me?access_token=EAAB&fields=id'),
      'https://graph.facebook.com/v24.0/me?access_token=[redacted]&fields=[redacted]',
    );
    // A parameter without `=` may be a bare token: it goes whole.
    assert.equal(
      redactUrl('http://h/c?t0ken-value&market=SE'),
      'http://h/c?[redacted]&market=[redacted]',
    );
  });

  it('drops the fragment', () => {
    assert.equal(redactUrl('https://h/cb#access_token=abc'), 'https://h/cb');
    assert.equal(redactUrl('https://u:p@h/c?sig=x#frag'), 'https://[redacted]@h/c?sig=[redacted]');
  });

  it('returns a string that is not a URL, or has nothing secret, unchanged', () => {
    for (const s of [
      'catalog/demo/catalog.json',
      '/srv/adloop/catalog.csv',
      '',
      'not a url at all',
      'http://',
      'http://127.0.0.1:4010',
      'https://example.com/a/b.csv',
    ])
      assert.equal(redactUrl(s), s);
  });
});

describe('redact', () => {
  it('redacts every URL in a text, the given secrets, access_token= and Bearer', () => {
    const text =
      'GET https://u:pw@h/x?token=t1&sig=s1 failed; retry http://h/y?key=k2, ' +
      'body access_token=t3 header Bearer t4 and the secret zz-secret-zz';
    const out = redact(text, ['zz-secret-zz']);
    for (const secret of ['pw', 't1', 's1', 'k2', 't3', 't4', 'zz-secret-zz'])
      assert.ok(!out.includes(secret), `${secret} in: ${out}`);
    assert.match(out, /https:\/\/\[redacted\]@h\/x\?token=\[redacted\]&sig=\[redacted\] failed/);
    assert.match(out, /http:\/\/h\/y\?key=\[redacted\]/);
  });

  it('takes user info out of a URL that does not parse', () => {
    assert.equal(redact('at http://user:pw@ there'), 'at http://[redacted]@ there');
  });

  it('leaves a text without secrets as it is', () => {
    const text = 'catalog source http://127.0.0.1:9/catalog.jsonl answered HTTP 500';
    assert.equal(redact(text), text);
  });
});

describe('errors leaving an activity', () => {
  it('carry no secret in their message, stack or causes, whatever kind they are', () => {
    const url = 'https://graph.example/v24.0/act_1/ads?access_token=EAAsecret1&fields=id';
    const cause = new Error(`socket hang up calling ${url}`);
    const plain = new Error(`request to ${url} failed`, { cause });
    const out = toFailure(plain) as Error;
    for (const text of [out.message, out.stack ?? '', (out.cause as Error).message])
      assert.ok(!text.includes('EAAsecret1'), text);
    assert.match(out.message, /access_token=\[redacted\]/);
    const catalog = toFailure(new CatalogError('catalog https://u:pw@cdn.example/c.csv: bad row'));
    assert.ok(!(catalog as Error).message.includes('pw'), (catalog as Error).message);
  });
});
