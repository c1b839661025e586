// The sandbox YouTube Data API: resumable uploads through platforms/google/youtube.ts, found again
// by title so a retry does not upload twice. Skipped until the sandbox serves Google.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { PlatformError } from '../../platforms/errors.ts';
import { createYouTubeUploads } from '../../platforms/google/youtube.ts';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import { mp4 } from '../helpers/media.ts';
import { DEMO_WORLD } from '../helpers/stack.ts';

interface GoogleSandbox {
  googleUrls: { rest: string; grpc: string; token: string; youtube: string };
  googleCredentials: { clientId: string; clientSecret: string; refreshToken: string };
}

describe('sandbox YouTube uploads', async () => {
  const sandbox: Sandbox & Partial<GoogleSandbox> = await startSandbox({
    world: DEMO_WORLD,
    date: '2026-03-01',
  });
  after(() => sandbox.close());
  const ready = Boolean(sandbox.googleUrls && sandbox.googleCredentials);
  const options = ready ? {} : { skip: 'the sandbox does not serve Google yet (googleUrls)' };

  it('uploads once per title, in chunks, and reports the status', options, async () => {
    const uploads = createYouTubeUploads({
      rootUrl: sandbox.googleUrls.youtube,
      tokenUrl: sandbox.googleUrls.token,
      ...sandbox.googleCredentials,
      chunkBytes: 256 * 1024,
    });
    const bytes = mp4(1080, 1920);
    const title = 'adloop DE artist clip 1';
    assert.equal(await uploads.findByTitle(title), null);
    const id = await uploads.upload({ title, description: 'adloop', bytes });
    assert.ok(id, 'a video id');
    assert.equal(await uploads.findByTitle(title), id);
    assert.equal(await uploads.upload({ title, description: 'adloop', bytes }), id, 'not twice');
    const status = await uploads.status(id);
    assert.equal(status.privacy, 'unlisted');
    await assert.rejects(
      uploads.upload({ title: 'a <b>', description: '', bytes }),
      (e: unknown) => e instanceof PlatformError && e.kind === 'invalid',
    );
  });
});
