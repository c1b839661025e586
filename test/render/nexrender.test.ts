// The nexrender adapter against a real nexrender server on loopback. After Effects cannot run on
// Linux, so the tests play the worker's side through the same HTTP API a real nexrender worker
// uses (pickupJob / updateJob), while the adapter submits and polls exactly as in production.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@nexrender/api';
import type { Job } from '@nexrender/types/job.js';
import {
  NexrenderClient,
  NexrenderJobError,
  buildNexrenderJob,
  renderWithNexrender,
} from '../../render/nexrender.ts';
import type { NexrenderTemplate } from '../../render/nexrender.ts';
import type { CreativeSpec } from '../../render/spec.ts';
import { freePort } from '../../scripts/lib/ports.ts';
import { pickupJob, startNexrenderServer } from '../helpers/nexrender.ts';
import type { NexrenderTestServer } from '../helpers/nexrender.ts';

// Every assert.ok here carries a message: without one, Node 20 reads this file's source to
// describe the failure and hangs on its Arabic text instead of failing.
const SECRET = 'test-secret-4b1d';

const spec: CreativeSpec = {
  templateId: 'promo-ae',
  templateVersion: 3,
  language: 'ar',
  direction: 'rtl',
  text: { headline: 'استمع الآن', cta: 'تشغيل' },
  images: { artist: '/srv/assets/artist.jpg' },
  colors: { background: '#ff8000' },
  audio: '/srv/assets/preview.m4a',
  ratios: ['9:16', '1:1'],
  kinds: ['motion'],
  staticFormat: 'jpeg',
};

const template: NexrenderTemplate = {
  src: 'file:///srv/templates/promo.aep',
  compositions: { '9:16': 'main-9x16', '1:1': 'main-1x1' },
  layers: { headline: 'Headline', cta: 'CTA', artist: 'Artist photo', background: 'BG' },
};

// Each server test has its own bounds (poll timeouts, worker pickup); this is the net under them.
const BOUNDED = { timeout: 20_000 };

let nexrender: NexrenderTestServer;
let host: string;
let worker: Client;

before(async () => {
  nexrender = await startNexrenderServer(SECRET);
  ({ host, worker } = nexrender);
});

after(() => nexrender.close());

/**
 * Plays a nexrender worker: picks up the next queued job, reports render progress at each of
 * `steps` (waiting until the adapter has seen it, so the test does not depend on timing), then
 * ends the job as given.
 */
async function actAsWorker(
  expectedUid: string,
  steps: number[],
  end: Partial<Job>,
  seen: (progress: number) => Promise<void>,
): Promise<void> {
  const job = await pickupJob(worker);
  assert.equal(job.uid, expectedUid, 'the worker picked up the submitted job');
  assert.equal(job.state, 'picked');
  await worker.updateJob(job.uid, { state: 'started' });
  for (const renderProgress of steps) {
    await worker.updateJob(job.uid, { state: 'render:dorender', renderProgress });
    await seen(renderProgress);
  }
  await worker.updateJob(job.uid, end);
}

/** onProgress that records what it saw and lets the worker wait for a given progress. */
function progressProbe() {
  const events: Array<[string, number]> = [];
  const waiters: Array<{ progress: number; resolve: () => void }> = [];
  return {
    events,
    onProgress(state: string, progress: number) {
      events.push([state, progress]);
      for (const w of waiters.filter((x) => x.progress === progress)) w.resolve();
    },
    seen(progress: number): Promise<void> {
      if (events.some(([, p]) => p === progress)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`the adapter never reported progress ${progress}`)),
          5000,
        );
        waiters.push({
          progress,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
  };
}

describe('buildNexrenderJob', () => {
  it('maps every slot to an asset on its layer and passes nexrender validation', () => {
    const job = buildNexrenderJob(spec, template, '9:16', { outputDir: '/mnt/out/', uid: 'j-1' });
    assert.equal(job.uid, 'j-1');
    assert.equal(job.template.src, template.src);
    assert.equal(job.template.composition, 'main-9x16');
    assert.equal(job.template.outputExt, 'mp4');
    assert.deepEqual(job.assets, [
      { type: 'data', layerName: 'Headline', property: 'Source Text', value: 'استمع الآن' },
      { type: 'data', layerName: 'CTA', property: 'Source Text', value: 'تشغيل' },
      { type: 'image', src: 'file:///srv/assets/artist.jpg', layerName: 'Artist photo' },
      {
        type: 'data',
        layerName: 'BG',
        property: 'Effects.Fill.Color',
        value: [1, 128 / 255, 0],
      },
      { type: 'audio', src: 'file:///srv/assets/preview.m4a', layerName: 'audio' },
    ]);
    const [encode, copy] = job.actions.postrender;
    assert.equal(encode?.module, '@nexrender/action-encode');
    assert.equal(encode?.preset, 'mp4');
    assert.equal(copy?.module, '@nexrender/action-copy');
    assert.equal(copy?.input, encode?.output);
    assert.match(String(copy?.output), /^\/mnt\/out\/promo-ae-v3-ar-9x16-[0-9a-f]{16}\.mp4$/);
    assert.match(job.tags, /template:promo-ae/);
    assert.match(job.tags, /version:3/);
    assert.match(job.tags, /lang:ar/);
    assert.match(job.tags, /ratio:9x16/);
  });

  it('is deterministic apart from a random uid, and the file name follows the inputs', () => {
    const a = buildNexrenderJob(spec, template, '9:16', { outputDir: '/out' });
    const b = buildNexrenderJob(spec, template, '9:16', { outputDir: '/out' });
    assert.notEqual(a.uid, b.uid);
    assert.deepEqual({ ...a, uid: '' }, { ...b, uid: '' });
    const other = buildNexrenderJob(
      { ...spec, text: { ...spec.text, cta: 'استمع' } },
      template,
      '9:16',
      { outputDir: '/out' },
    );
    assert.notEqual(other.actions.postrender[1]?.output, a.actions.postrender[1]?.output);
  });

  it('defaults layers to slot names and leaves out audio when there is none', () => {
    const job = buildNexrenderJob(
      { ...spec, audio: null },
      { ...template, layers: undefined },
      '1:1',
      {
        outputDir: '/out',
      },
    );
    assert.deepEqual(
      job.assets.map((a) => a.layerName),
      ['headline', 'cta', 'artist', 'background'],
    );
  });

  it('throws naming the template and ratio when the ratio has no composition', () => {
    assert.throws(
      () => buildNexrenderJob(spec, template, '16:9', { outputDir: '/out' }),
      (err: Error) =>
        err.message.includes('promo-ae') &&
        err.message.includes('16:9') &&
        /no composition/.test(err.message),
    );
  });

  it('throws naming template, ratio and slot when the template maps a slot to nothing', () => {
    const layers = { ...template.layers, cta: '' };
    assert.throws(
      () => buildNexrenderJob(spec, { ...template, layers }, '9:16', { outputDir: '/out' }),
      /template "promo-ae" v3 \(ratio 9:16\) maps no layer to text slot "cta"/,
    );
    // A slot the template's layer list does not know at all.
    assert.throws(
      () =>
        buildNexrenderJob({ ...spec, colors: { accent: '#000000' } }, template, '9:16', {
          outputDir: '/out',
        }),
      /ratio 9:16\) maps no layer to colour slot "accent"/,
    );
  });

  it('surfaces nexrender validation errors and malformed colours', () => {
    assert.throws(
      () => buildNexrenderJob(spec, { ...template, src: '' }, '9:16', { outputDir: '/out' }),
      /nexrender job for template "promo-ae" v3 \(ratio 9:16\) is invalid: job must have template.src/,
    );
    assert.throws(
      () =>
        buildNexrenderJob({ ...spec, colors: { background: 'orange' } }, template, '9:16', {
          outputDir: '/out',
        }),
      /colour slot "background" is not #rrggbb/,
    );
  });
});

describe('NexrenderClient against a real nexrender server', () => {
  it(
    'submits, follows a worker through render progress and returns the finished job',
    BOUNDED,
    async () => {
      const client = new NexrenderClient({ host, secret: SECRET });
      const job = buildNexrenderJob(spec, template, '9:16', { outputDir: '/out' });
      const uid = await client.submit(job);
      assert.equal(uid, job.uid);
      const probe = progressProbe();
      const [finished] = await Promise.all([
        client.waitForJob(uid, { pollMs: 10, timeoutMs: 10_000, onProgress: probe.onProgress }),
        actAsWorker(
          uid,
          [40, 80],
          { state: 'finished', renderProgress: 100, output: '/work/result.mp4' },
          probe.seen,
        ),
      ]);
      assert.equal(finished.uid, uid);
      assert.equal(finished.state, 'finished');
      assert.equal(finished.output, '/work/result.mp4');
      assert.equal(finished.template.composition, 'main-9x16');
      for (const progress of [40, 80]) {
        assert.ok(
          probe.events.some(([s, p]) => s === 'render:dorender' && p === progress),
          `onProgress saw render:dorender at ${progress}%: ${JSON.stringify(probe.events)}`,
        );
      }
      assert.deepEqual(probe.events.at(-1), ['finished', 100]);
    },
  );

  it('rejects with the error text the worker reported', BOUNDED, async () => {
    const client = new NexrenderClient({ host, secret: SECRET });
    const job = buildNexrenderJob(spec, template, '1:1', { outputDir: '/out' });
    const uid = await client.submit(job);
    const probe = progressProbe();
    const results = await Promise.allSettled([
      client.waitForJob(uid, { pollMs: 10, timeoutMs: 10_000, onProgress: probe.onProgress }),
      actAsWorker(
        uid,
        [10],
        { state: 'error', error: ['Error: layer "Headline" not found in composition main-1x1'] },
        probe.seen,
      ),
    ]);
    assert.equal(results[1].status, 'fulfilled');
    assert.equal(results[0].status, 'rejected');
    const err = results[0].reason as NexrenderJobError;
    assert.ok(err instanceof NexrenderJobError, `a NexrenderJobError, not: ${String(err)}`);
    assert.equal(err.uid, uid);
    assert.match(err.message, new RegExp(`job ${uid} failed: .*layer "Headline" not found`));
  });

  it(
    'times out naming the uid and last state when no worker picks the job up',
    BOUNDED,
    async () => {
      const client = new NexrenderClient({ host, secret: SECRET });
      const job = buildNexrenderJob(spec, template, '9:16', { outputDir: '/out' });
      const uid = await client.submit(job);
      try {
        const started = Date.now();
        await assert.rejects(
          client.waitForJob(uid, { pollMs: 20, timeoutMs: 150 }),
          new RegExp(`nexrender job ${uid} did not finish within 150 ms \\(last state: queued\\)`),
        );
        assert.ok(Date.now() - started < 2000, 'gave up near the timeout');
      } finally {
        // Otherwise the next test's worker would pick this job up first.
        await worker.removeJob(uid);
      }
    },
  );

  it('stops waiting when its signal aborts', BOUNDED, async () => {
    const client = new NexrenderClient({ host, secret: SECRET });
    const uid = await client.submit(buildNexrenderJob(spec, template, '9:16', { outputDir: '/o' }));
    try {
      await assert.rejects(
        client.waitForJob(uid, {
          pollMs: 1000,
          timeoutMs: 10_000,
          signal: AbortSignal.timeout(50),
        }),
        { name: 'TimeoutError' },
      );
    } finally {
      await worker.removeJob(uid);
    }
  });

  it('fails clearly, without echoing the secret, when the secret is wrong', BOUNDED, async () => {
    const wrong = 'not-the-secret-9f';
    const client = new NexrenderClient({ host, secret: wrong });
    const job = buildNexrenderJob(spec, template, '9:16', { outputDir: '/out' });
    const submitted = await client.submit(job).then(
      () => assert.fail('submit with a wrong secret succeeded'),
      (err: Error) => err,
    );
    assert.match(
      submitted.message,
      /refused job .* \(HTTP 403\): Wrong or no authentication secret/,
    );
    assert.ok(!submitted.message.includes(wrong), 'the submit error does not echo the secret');
    // Polling fails at once rather than retrying until the timeout.
    const started = Date.now();
    const polled = await client.waitForJob('any', { pollMs: 10, timeoutMs: 5000 }).then(
      () => assert.fail('polling with a wrong secret succeeded'),
      (err: Error) => err,
    );
    assert.match(polled.message, /refused to return job any: Wrong or no authentication secret/);
    assert.ok(!polled.message.includes(wrong), 'the poll error does not echo the secret');
    assert.ok(Date.now() - started < 2000, 'a refused poll is not retried until the timeout');
    assert.ok(!JSON.stringify(client).includes(wrong), 'the secret is not a visible property');
  });

  it(
    'renderWithNexrender resumes a job it already submitted instead of queueing it again',
    BOUNDED,
    async () => {
      const client = new NexrenderClient({ host, secret: SECRET });
      const uid = 'adloop-promo-ae-3-ar-9x16';
      const opts = {
        host,
        secret: SECRET,
        outputDir: '/mnt/out',
        uid,
        pollMs: 10,
        timeoutMs: 10_000,
      };
      // A first attempt submitted the job, then (say) the activity was retried.
      await client.submit(buildNexrenderJob(spec, template, '9:16', opts));
      const probe = progressProbe();
      const [result] = await Promise.all([
        renderWithNexrender(spec, template, '9:16', { ...opts, onProgress: probe.onProgress }),
        actAsWorker(
          uid,
          [50],
          { state: 'finished', renderProgress: 100, output: '/w/x.mp4' },
          probe.seen,
        ),
      ]);
      assert.equal(result.job.state, 'finished');
      assert.match(result.file, /^\/mnt\/out\/promo-ae-v3-ar-9x16-[0-9a-f]{16}\.mp4$/);
      const jobs = await worker.listJobs();
      assert.equal(jobs.filter((j) => j.uid === uid).length, 1);
    },
  );

  it('keeps polling an unreachable server until the timeout, then says why', BOUNDED, async () => {
    const client = new NexrenderClient({ host: `http://127.0.0.1:${await freePort()}` });
    await assert.rejects(
      client.waitForJob('j-9', { pollMs: 20, timeoutMs: 150 }),
      /job j-9 did not finish within 150 ms \(last state: not yet polled; last poll failed: .*ECONNREFUSED/,
    );
    await assert.rejects(
      client.submit(buildNexrenderJob(spec, template, '9:16', { outputDir: '/o', uid: 'j-9' })),
      /could not submit nexrender job j-9 to http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/,
    );
  });

  it('waitForJob rejects at once for a uid the server does not know', BOUNDED, async () => {
    const client = new NexrenderClient({ host, secret: SECRET });
    await assert.rejects(
      client.waitForJob('no-such-job', { pollMs: 10, timeoutMs: 5000 }),
      /has no job no-such-job/,
    );
  });
});
