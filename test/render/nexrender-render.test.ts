// renderCreative with a nexrender farm: motion of a template with an After Effects version renders
// on the farm, then is checked and stored like any other asset. The farm is a real nexrender
// server on loopback; After Effects cannot run on Linux, so a stand-in plays the worker through
// the server's API and produces what the job would: a real MP4, made with ffmpeg, at the path
// the job's copy action names.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mediaTools } from '../../render/media-tools.ts';
import { promisify } from 'node:util';
import { inspect } from 'node:util';
import type { Job, JobAction } from '@nexrender/types/job.js';
import { ConfigError } from '../../core/config.ts';
import {
  loadRenderer,
  nexrenderUid,
  renderCreative,
  type RenderProgress,
  type RendererConfig,
  type RendererDeps,
} from '../../render/renderer.ts';
import { ASPECT_RATIOS, type AspectRatio, type CreativeSpec } from '../../render/spec.ts';
import { pickupJob, startNexrenderServer, type NexrenderTestServer } from '../helpers/nexrender.ts';
import { ROOT } from '../helpers/stack.ts';

const run = promisify(execFile);

const SECRET = 'test-secret-render-7c2e';
const SIZES: Record<AspectRatio, [number, number]> = {
  '1:1': [1080, 1080],
  '4:5': [1080, 1350],
  '9:16': [1080, 1920],
  '16:9': [1920, 1080],
};
const FONT = ['Noto Sans', 'Noto Sans Arabic', 'Noto Sans Hebrew'];
const PHOTO = path.join(ROOT, 'catalog/demo/images/a01.jpg');
const COMPOSITION = 'probe-vertical';
// Each test's net: renders are small, but the machine is shared.
const BOUNDED = { timeout: 120_000 };

let tmp: string;
let outputDir: string;
let farm: NexrenderTestServer;
let config: RendererConfig;
let deps: RendererDeps;

/**
 * A template like test/render/renderer.test.ts's probe: a text, a photo and a colour slot, an SVG
 * per ratio and a motion timeline, plus, when given, an After Effects version.
 */
function writeTemplate(root: string, id: string, duration: number, nexrender?: unknown): void {
  const dir = path.join(root, id);
  fs.mkdirSync(dir, { recursive: true });
  const variants: Record<string, unknown> = {};
  for (const ratio of ASPECT_RATIOS) {
    const [w, h] = SIZES[ratio];
    fs.writeFileSync(
      path.join(dir, `${ratio.replace(':', 'x')}.svg`),
      `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">` +
        `<rect width="${w}" height="${h}" fill="#101018"/>` +
        `<image x="0" y="0" width="300" height="300" xlink:href="{{photo}}"/>` +
        `<g id="layer-badge"><rect x="${w - 200}" y="40" width="120" height="60" fill="{{accent}}"/></g></svg>`,
    );
    variants[ratio] = {
      width: w,
      height: h,
      images: { photo: { width: 300, height: 300 } },
      text: {
        title: {
          box: [Math.round(0.2 * w), Math.round(0.3 * h), Math.round(0.6 * w), Math.round(0.2 * h)],
          font: FONT,
          weight: 700,
          size: 64,
          minSize: 32,
          color: '#ffffff',
        },
      },
    };
  }
  fs.writeFileSync(
    path.join(dir, 'template.json'),
    JSON.stringify({
      id,
      version: 1,
      name: `Probe ${id}`,
      theme: 'probe',
      languages: ['en'],
      slots: {
        photo: { type: 'image', source: 'artist.image' },
        title: { type: 'text', source: 'artist.name' },
        accent: { type: 'color', default: '#1ed760' },
      },
      variants,
      motion: {
        duration,
        fps: 30,
        layers: {
          title: {
            opacity: [
              { t: 0, value: 0 },
              { t: 0.5, value: 1 },
            ],
          },
        },
      },
      ...(nexrender ? { nexrender } : {}),
    }),
  );
}

function spec(over: Partial<CreativeSpec> = {}): CreativeSpec {
  return {
    templateId: 'probe-ae',
    templateVersion: 1,
    language: 'en',
    direction: 'ltr',
    text: { title: 'Nova Moreau' },
    images: { photo: PHOTO },
    colors: {},
    ratios: ['9:16'],
    kinds: ['static', 'motion'],
    staticFormat: 'jpeg',
    ...over,
  };
}

/** renderCreative's onProgress, recording what it saw and letting the stand-in wait for it. */
function progressProbe() {
  const events: RenderProgress[] = [];
  const waiters: Array<{ fraction: number; resolve: () => void }> = [];
  return {
    events,
    onProgress(p: RenderProgress) {
      events.push(p);
      for (const w of waiters.filter((x) => p.kind === 'motion' && x.fraction === p.fraction))
        w.resolve();
    },
    seen(fraction: number): Promise<void> {
      if (events.some((e) => e.kind === 'motion' && e.fraction === fraction))
        return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`renderCreative never reported motion progress ${fraction}`)),
          10_000,
        );
        waiters.push({
          fraction,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
  };
}

/** The next queued job, picked up as a nexrender worker would. */
async function pickedUp(): Promise<Job> {
  const job = await pickupJob(farm.worker);
  if (!job.uid) assert.fail('the stand-in found no job to pick up');
  return job as Job;
}

/** The output of the job's copy action: where the finished video must be. */
function copyOutput(job: Job): string {
  const copy = job.actions.postrender.find((a: JobAction) => a.module === '@nexrender/action-copy');
  assert.equal(typeof copy?.output, 'string', 'the job copies its video somewhere');
  return copy!.output as string;
}

/** What the After Effects job would produce: a 6 s 9:16 H.264 MP4 at a constant 1 Mbps. */
async function renderLikeAfterEffects(file: string): Promise<void> {
  await run(mediaTools().ffmpeg.path, [
    ...['-hide_banner', '-loglevel', 'error', '-y'],
    ...['-f', 'lavfi', '-i', 'color=c=navy:s=1080x1920:d=6'],
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p'],
    ...['-b:v', '1M', '-minrate', '1M', '-maxrate', '1M', '-bufsize', '2M'],
    ...['-x264-params', 'nal-hrd=cbr', '-threads', '2'],
    file,
  ]);
}

/**
 * Runs `render` and the stand-in worker together. A failing stand-in aborts the render, so a
 * broken test fails at once instead of polling until the render's timeout.
 */
async function withStandIn<T, S>(
  render: (signal: AbortSignal) => Promise<T>,
  standIn: () => Promise<S>,
): Promise<[PromiseSettledResult<T>, S]> {
  const ac = new AbortController();
  const [rendered, stood] = await Promise.allSettled([
    render(ac.signal),
    standIn().catch((err: unknown) => {
      ac.abort(err);
      throw err;
    }),
  ]);
  if (stood.status === 'rejected') throw stood.reason;
  return [rendered, stood.value];
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'adloop-nexrender-render-'));
  outputDir = path.join(tmp, 'farm-output');
  fs.mkdirSync(outputDir);
  const templates = path.join(tmp, 'templates');
  writeTemplate(templates, 'probe-ae', 6, {
    src: 'file:///srv/templates/probe.aep',
    compositions: { '9:16': COMPOSITION },
  });
  writeTemplate(templates, 'probe-plain', 3);
  farm = await startNexrenderServer(SECRET);
  config = {
    TEMPLATES_DIR: templates,
    FONTS_MANIFEST: path.join(ROOT, 'templates/fonts.json'),
    CREATIVE_STORE: 'local',
    CREATIVES_DIR: path.join(tmp, 'store'),
    NEXRENDER_URL: farm.host,
    NEXRENDER_SECRET: SECRET,
    NEXRENDER_OUTPUT_DIR: outputDir,
  };
  const loaded = loadRenderer(config);
  assert.ok(loaded.nexrender, 'loadRenderer configured nexrender');
  deps = { ...loaded, workDir: tmp, nexrender: { ...loaded.nexrender, pollMs: 20 } };
});

after(async () => {
  await farm?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('renderCreative with a nexrender farm', () => {
  it(
    'renders motion on the farm, checks and stores it, and a cache hit submits nothing',
    BOUNDED,
    async () => {
      const probe = progressProbe();
      const jobs: Job[] = [];
      const produced = path.join(tmp, 'produced.sha256');
      const [result] = await withStandIn(
        (signal) => renderCreative(spec(), deps, { onProgress: probe.onProgress, signal }),
        async () => {
          const job = await pickedUp();
          jobs.push(job);
          await farm.worker.updateJob(job.uid, { state: 'started' });
          await farm.worker.updateJob(job.uid, { state: 'render:dorender', renderProgress: 50 });
          await probe.seen(0.5);
          const out = copyOutput(job);
          await renderLikeAfterEffects(out);
          fs.writeFileSync(
            produced,
            createHash('sha256').update(fs.readFileSync(out)).digest('hex'),
          );
          await farm.worker.updateJob(job.uid, {
            state: 'finished',
            renderProgress: 100,
            output: out,
          });
          // Nothing else is queued: the static did not go to the farm.
          assert.deepEqual(await farm.worker.pickupJob(), {}, 'one job only');
        },
      );
      if (result.status === 'rejected') throw result.reason;
      const out = result.value;

      // The farm rendered the motion asset: one job, for the 9:16 composition, with the spec.
      assert.equal(jobs.length, 1, 'the stand-in saw exactly one job');
      const job = jobs[0]!;
      assert.equal(job.uid, nexrenderUid(out.hash, '9:16'));
      assert.match(job.uid, /^[A-Za-z0-9_-]+$/, 'a uid nexrender routes and names folders with');
      assert.equal(job.template.composition, COMPOSITION);
      assert.equal(job.template.src, 'file:///srv/templates/probe.aep');
      assert.deepEqual(
        job.assets.find((a) => a.type === 'data' && a.property === 'Source Text'),
        { type: 'data', layerName: 'title', property: 'Source Text', value: 'Nova Moreau' },
      );
      assert.ok(
        job.assets.some((a) => a.type === 'image' && a.src.endsWith('/a01.jpg')),
        `the photo is an asset: ${JSON.stringify(job.assets)}`,
      );
      // The template's default colour is sent too, as the built-in renderer would draw it.
      assert.deepEqual(
        job.assets.find((a) => a.layerName === 'accent'),
        {
          type: 'data',
          layerName: 'accent',
          property: 'Effects.Fill.Color',
          value: [0x1e / 255, 0xd7 / 255, 0x60 / 255],
        },
      );
      assert.ok(copyOutput(job).startsWith(outputDir + '/'), 'copied into NEXRENDER_OUTPUT_DIR');

      assert.equal(out.rendered, 2);
      assert.equal(out.cached, 0);
      const motion = out.assets.find((a) => a.asset.kind === 'motion')!;
      const still = out.assets.find((a) => a.asset.kind === 'static')!;
      assert.equal(still.asset.format, 'jpeg', 'the static rendered with sharp');
      assert.deepEqual(motion.qa.findings, [], 'the farm video passes QA');
      // A clean 6 s 9:16 video: placed by all three, within every limit.
      assert.deepEqual(motion.qa.platforms, { meta: true, tiktok: true, google: true });
      assert.equal(motion.asset.format, 'mp4');
      assert.deepEqual([motion.asset.width, motion.asset.height], [1080, 1920]);
      assert.ok(
        Math.abs((motion.asset.durationSeconds ?? 0) - 6) < 0.1,
        `${motion.asset.durationSeconds}`,
      );
      const stored = await deps.store.localPath(motion.asset.key);
      assert.equal(
        createHash('sha256').update(fs.readFileSync(stored)).digest('hex'),
        fs.readFileSync(produced, 'utf8'),
        'the stored video is the one the farm produced',
      );

      // Progress: the farm's render progress reached the activity's callback.
      const fractions = probe.events.filter((e) => e.kind === 'motion').map((e) => e.fraction);
      assert.ok(fractions.includes(0.5), `saw the farm's 50%: ${fractions.join(' ')}`);
      assert.equal(fractions.at(-1), 1, 'ended at 1');
      for (let i = 1; i < fractions.length; i++)
        assert.ok(fractions[i]! >= fractions[i - 1]!, `never goes back: ${fractions.join(' ')}`);

      // A cache hit: nothing rendered, nothing submitted.
      const before = (await farm.worker.listJobs()).length;
      const again = await renderCreative(spec(), deps);
      assert.equal(again.rendered, 0);
      assert.equal(again.cached, 2);
      assert.deepEqual(
        again.assets.map((a) => a.asset),
        out.assets.map((a) => a.asset),
      );
      assert.equal((await farm.worker.listJobs()).length, before, 'no new job');
      assert.deepEqual(await farm.worker.pickupJob(), {}, 'nothing queued');
    },
  );

  it('rejects naming the template, ratio and the error the farm reported', BOUNDED, async () => {
    const [result] = await withStandIn(
      (signal) =>
        renderCreative(spec({ text: { title: 'Broken Layer' }, kinds: ['motion'] }), deps, {
          signal,
        }),
      async () => {
        const job = await pickedUp();
        await farm.worker.updateJob(job.uid, { state: 'started' });
        await farm.worker.updateJob(job.uid, {
          state: 'error',
          error: [`Error: layer "title" not found in composition ${COMPOSITION}`],
        });
      },
    );
    assert.equal(result.status, 'rejected', 'renderCreative failed');
    const err = result.reason as Error;
    assert.match(err.message, /template "probe-ae" v1 at 9:16/);
    assert.match(err.message, /layer "title" not found in composition probe-vertical/);
    assert.ok(!err.message.includes(SECRET), 'the error does not carry the secret');

    // The retry resubmits the failed job (same uid) instead of repeating its old error.
    const [again] = await withStandIn(
      (signal) =>
        renderCreative(spec({ text: { title: 'Broken Layer' }, kinds: ['motion'] }), deps, {
          signal,
        }),
      async () => {
        const job = await pickedUp();
        const out = copyOutput(job);
        await renderLikeAfterEffects(out);
        await farm.worker.updateJob(job.uid, {
          state: 'finished',
          renderProgress: 100,
          output: out,
        });
      },
    );
    if (again.status === 'rejected') throw again.reason;
    assert.equal(again.value.rendered, 1, 'the retry rendered on the farm');
  });

  it(
    'renders motion of a template without an After Effects version with ffmpeg',
    BOUNDED,
    async () => {
      const before = (await farm.worker.listJobs()).length;
      const out = await renderCreative(
        spec({ templateId: 'probe-plain', kinds: ['motion'], ratios: ['9:16'] }),
        deps,
      );
      assert.equal(out.rendered, 1);
      const [motion] = out.assets;
      assert.equal(motion?.asset.format, 'mp4');
      assert.ok(
        Math.abs((motion?.asset.durationSeconds ?? 0) - 3) < 0.1,
        `the template's own 3 s timeline: ${motion?.asset.durationSeconds}`,
      );
      assert.equal((await farm.worker.listJobs()).length, before, 'nothing went to the farm');
    },
  );
});

describe('loadRenderer nexrender settings', () => {
  it('needs NEXRENDER_OUTPUT_DIR with NEXRENDER_URL, without echoing the secret', () => {
    assert.throws(
      () => loadRenderer({ ...config, NEXRENDER_OUTPUT_DIR: undefined }),
      (err: Error) =>
        err instanceof ConfigError &&
        /NEXRENDER_OUTPUT_DIR: required when NEXRENDER_URL is set/.test(err.message) &&
        !err.message.includes(SECRET),
    );
    assert.throws(
      () => loadRenderer({ ...config, NEXRENDER_OUTPUT_DIR: path.join(tmp, 'missing') }),
      (err: Error) =>
        err instanceof ConfigError && /NEXRENDER_OUTPUT_DIR: not a folder/.test(err.message),
    );
    const noFarm = { ...config, NEXRENDER_URL: undefined };
    assert.equal(loadRenderer(noFarm).nexrender, undefined, 'no NEXRENDER_URL, no farm');
  });

  it('keeps the secret out of logs and JSON, also in copies', () => {
    const loaded = loadRenderer(config);
    assert.equal(loaded.nexrender?.secret, SECRET, 'the renderer has the secret');
    const copy = { ...loaded, nexrender: { ...loaded.nexrender, pollMs: 5 } };
    assert.equal(copy.nexrender.secret, SECRET, 'a copy keeps the secret');
    for (const d of [loaded, copy]) {
      const shown = [inspect(d, { depth: 5 }), JSON.stringify(d.nexrender)].join('\n');
      assert.ok(!shown.includes(SECRET), `the secret is not shown: ${shown}`);
      assert.ok(shown.includes('[redacted]'), 'shown as redacted');
      assert.ok(shown.includes(farm.host), 'the host is shown');
    }
  });
});
