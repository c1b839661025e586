// `npm run bench:render -- --json`: how fast the built-in renderer is.
//   motion:  a 10 s 1080x1920 (9:16) video of a shipped template, from the composed design to the
//            finished MP4 (layers rasterised once, animated in one ffmpeg filtergraph);
//   encode:  ffmpeg encoding the template's final still for the same duration, size, frame rate
//            and encoder settings, fed the same way (decoded and colour-converted once): the limit
//            no renderer of that video can beat;
//   static:  one creative in all four aspect ratios through the whole static path (read inputs,
//            hash, compose, fit text, encode, QA, store), into an empty store each time.
// Each is measured several times after a warm-up and the median is reported. It prints
// {"video_seconds", "width", "height", "motion_seconds", "encode_only_seconds", "ratio",
// "static_ms", "template"}; progress goes to stderr.
import { Command } from 'commander';
import { wholeNumber } from './args.ts';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { colorValues, readSourceImage } from '../render/compose.ts';
import { encodeStill, DEFAULT_ENCODER } from '../render/motion.ts';
import { loadRenderer, renderCreative, type RendererDeps } from '../render/renderer.ts';
import { ASPECT_RATIOS, type CreativeSpec } from '../render/spec.ts';
import { createLocalStore } from '../render/storage.ts';
import { countryName, creativeSpec } from '../activities/render/creative-jobs.ts';
import { composeVariant, renderMotion } from '../render/variant.ts';

const opts = new Command()
  .name('npm run bench:render --')
  .description('Time motion rendering against encode-only, and static rendering of all ratios.')
  .option('--template <id>', 'template to render', 'spotlight')
  .option('--language <code>', 'language of the copy', 'en')
  .option('--image <file>', 'artist photo', 'catalog/demo/images/a01.jpg')
  .option('--seconds <n>', 'video duration', wholeNumber('--seconds'), 10)
  .option('--runs <n>', 'measured runs of each part', wholeNumber('--runs'), 5)
  .option('--json', 'print only the JSON result on stdout')
  .parse()
  .opts<{
    template: string;
    language: string;
    image: string;
    seconds: number;
    runs: number;
    json?: boolean;
  }>();

const log = (msg: string) => process.stderr.write(`bench:render: ${msg}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const root = path.resolve(import.meta.dirname, '..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'adloop-bench-render-'));
try {
  const base = loadRenderer({
    TEMPLATES_DIR: path.join(root, 'templates'),
    FONTS_MANIFEST: path.join(root, 'templates/fonts.json'),
    CREATIVE_STORE: 'local',
    CREATIVES_DIR: path.join(work, 'store-0'),
  });
  const template = base.library.get(opts.template);
  // The spec the render stage would make: copy in the language, the photo in every image slot.
  const spec: CreativeSpec = creativeSpec(template, {
    language: opts.language,
    artist: 'Nova Moreau',
    genre: 'pop',
    market: (language) => countryName('SE', language, 'Sweden'),
    image: path.resolve(opts.image),
    selection: { ratios: [...ASPECT_RATIOS], kinds: ['static'], staticFormat: 'jpeg' },
  });
  const { text, images, direction } = spec;

  // Motion against encode-only, alternating so both see the same machine.
  const variant = template.variants['9:16'];
  const photo = Object.fromEntries(
    await Promise.all(
      Object.entries(images).map(
        async ([slot, f]) => [slot, await readSourceImage(f, slot)] as const,
      ),
    ),
  );
  const composedInputs = {
    text,
    images: photo,
    colors: colorValues(template, {}),
    direction,
  } as const;
  const motion: number[] = [];
  const encode: number[] = [];
  for (let run = 0; run <= opts.runs; run++) {
    const dir = path.join(work, `motion-${run}`);
    let t0 = performance.now();
    const composed = await composeVariant(template, variant, composedInputs);
    await renderMotion(composed, {
      encoder: DEFAULT_ENCODER,
      workDir: dir,
      out: path.join(dir, 'motion.mp4'),
      duration: opts.seconds,
    });
    const m = (performance.now() - t0) / 1000;
    t0 = performance.now();
    await encodeStill(
      {
        file: path.join(dir, 'final.rgba'),
        place: { x: 0, y: 0, width: variant.width, height: variant.height },
      },
      opts.seconds,
      template.motion.fps,
      DEFAULT_ENCODER,
      dir,
      path.join(dir, 'still.mp4'),
    );
    const e = (performance.now() - t0) / 1000;
    fs.rmSync(dir, { recursive: true, force: true });
    // Run 0 warms caches (fonts, libvips, the page cache of ffmpeg) and is not counted.
    if (run > 0) {
      motion.push(m);
      encode.push(e);
    }
    log(
      `${run === 0 ? 'warm-up' : `run ${run}`}: motion ${m.toFixed(2)} s, encode-only ${e.toFixed(2)} s`,
    );
  }

  // Static: a fresh store each run, so nothing is a cache hit.
  const staticMs: number[] = [];
  for (let run = 0; run <= opts.runs * 2; run++) {
    const deps: RendererDeps = {
      ...base,
      store: createLocalStore(path.join(work, `store-${run + 1}`)),
    };
    const t0 = performance.now();
    const out = await renderCreative(spec, deps);
    const ms = performance.now() - t0;
    if (out.rendered !== ASPECT_RATIOS.length) throw new Error(`rendered ${out.rendered} of 4`);
    if (run > 0) staticMs.push(ms);
    log(`${run === 0 ? 'warm-up' : `run ${run}`}: static, 4 ratios ${ms.toFixed(0)} ms`);
  }

  const m = median(motion);
  const e = median(encode);
  const result = {
    video_seconds: opts.seconds,
    width: variant.width,
    height: variant.height,
    motion_seconds: Number(m.toFixed(3)),
    encode_only_seconds: Number(e.toFixed(3)),
    ratio: Number((m / e).toFixed(3)),
    static_ms: Math.round(median(staticMs)),
    template: template.id,
  };
  console.log(opts.json ? JSON.stringify(result) : JSON.stringify(result, null, 2));
} catch (err) {
  console.error(`bench:render failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
