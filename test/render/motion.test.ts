// Motion: keyframe tracks become ffmpeg expressions and commands, and the rendered video shows each
// layer where, how large and how opaque its keyframes say, frame by frame.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import {
  buildMotionGraph,
  encodeMotion,
  opacitySteps,
  probeVideo,
  scaleCommands,
  trackExpr,
  trackValue,
  type EncoderSettings,
  type PaintItem,
} from '../../render/motion.ts';
import { colorValues, readSourceImage } from '../../render/compose.ts';
import { mediaTools } from '../../render/media-tools.ts';
import { loadTemplateLibrary } from '../../render/template.ts';
import { composeVariant, paintItems } from '../../render/variant.ts';
import { ROOT } from '../helpers/stack.ts';

/** Evaluates the subset of ffmpeg's expression language trackExpr emits, at time t. */
function evalExpr(expr: string, t: number): number {
  const tokens = expr.match(/\d+(\.\d+)?|[a-z]+|[-+*/(),]/g) ?? [];
  let i = 0;
  const peek = () => tokens[i];
  const next = () => tokens[i++]!;
  const expect = (tok: string) => assert.equal(next(), tok);
  const primary = (): number => {
    const tok = next();
    if (tok === '(') {
      const v = sum();
      expect(')');
      return v;
    }
    if (tok === '-') return -primary();
    if (tok === 't') return t;
    if (tok === 'if' || tok === 'lt') {
      expect('(');
      const a = sum();
      expect(',');
      const b = sum();
      if (tok === 'lt') {
        expect(')');
        return a < b ? 1 : 0;
      }
      expect(',');
      const c = sum();
      expect(')');
      return a ? b : c;
    }
    const n = Number(tok);
    assert.ok(Number.isFinite(n), `unexpected token ${tok}`);
    return n;
  };
  const product = (): number => {
    let v = primary();
    while (peek() === '*' || peek() === '/') v = next() === '*' ? v * primary() : v / primary();
    return v;
  };
  const sum = (): number => {
    let v = product();
    while (peek() === '+' || peek() === '-') v = next() === '+' ? v + product() : v - product();
    return v;
  };
  const v = sum();
  assert.equal(i, tokens.length, 'the whole expression is read');
  return v;
}

describe('keyframe tracks', () => {
  const keys = [
    { t: 0.5, value: 10, ease: 'linear' as const },
    { t: 1.5, value: 20, ease: 'linear' as const },
    { t: 2.5, value: 0, ease: 'out' as const },
  ];

  it('hold before the first key and after the last, and interpolate between', () => {
    const e = trackExpr(keys, (k) => k.value);
    assert.equal(evalExpr(e, 0), 10);
    assert.equal(evalExpr(e, 1), 15);
    assert.equal(evalExpr(e, 1.5), 20);
    assert.equal(evalExpr(e, 3), 0);
    // ease-out: past the linear midpoint halfway through the segment
    assert.ok(evalExpr(e, 2) < 10, `${evalExpr(e, 2)}`);
    assert.ok(Math.abs(evalExpr(e, 2) - 5) < 1e-9, 'out-quad at u=0.5 covers 75% of the way');
  });

  it('are evaluated the same in TypeScript (per-frame commands) and as ffmpeg expressions', () => {
    for (const ease of ['linear', 'in', 'out', 'in-out'] as const) {
      const eased = keys.map((k) => ({ ...k, ease }));
      const e = trackExpr(eased, (k) => k.value);
      for (let t = 0; t <= 3; t += 0.05)
        assert.ok(
          Math.abs(evalExpr(e, t) - trackValue(eased, (k) => k.value, t)) < 1e-9,
          `${ease} at t=${t}`,
        );
    }
  });

  it('resize a layer frame by frame with sendcmd, from the size at frame 0', () => {
    const place = { x: 0, y: 0, width: 100, height: 50 };
    const { first, script } = scaleCommands(
      'l1',
      place,
      [
        { t: 0, value: 0.5, ease: 'linear' },
        { t: 0.1, value: 1, ease: 'linear' },
      ],
      30,
    );
    assert.deepEqual(first, { width: 50, height: 24 }, 'even sizes: 25 px rounds down to 24');
    // Frames 1, 2, 3 at 1/30 s apart: a third, two thirds and all of the way. Each line sits
    // half a frame before its frame, so it is in force exactly from that frame on.
    assert.equal(
      script.trim(),
      [
        '0.0167 scale@l1 w 66, scale@l1 h 32;',
        '0.05 scale@l1 w 82, scale@l1 h 40;',
        '0.0833 scale@l1 w 100, scale@l1 h 50;',
      ].join('\n'),
    );
  });

  it('fade opacity frame by frame: one mixer per run of equal alpha, enabled on its frames only', () => {
    const steps = opacitySteps(
      [
        { t: 0, value: 0.2, ease: 'linear' },
        { t: 2 / 30, value: 0.6, ease: 'linear' },
      ],
      30,
    );
    assert.deepEqual(steps, [
      "colorchannelmixer=aa=0.2:enable='lt(t,0.0167)'",
      "colorchannelmixer=aa=0.4:enable='gte(t,0.0167)*lt(t,0.05)'",
      "colorchannelmixer=aa=0.6:enable='gte(t,0.05)'",
    ]);
    // Full opacity needs no mixer: a layer that ends opaque has no step after its last key.
    const toOpaque = opacitySteps(
      [
        { t: 0, value: 0.5, ease: 'out' },
        { t: 1 / 30, value: 1, ease: 'out' },
      ],
      30,
    );
    assert.deepEqual(toOpaque, ["colorchannelmixer=aa=0.502:enable='lt(t,0.0167)'"]);
  });
});

describe('the filtergraph', () => {
  const place = { x: 10, y: 10, width: 40, height: 40 };
  const base: PaintItem = {
    name: 'bg',
    file: 'bg',
    place: { x: 0, y: 0, width: 100, height: 100 },
  };

  /** The graph of a background and one layer `a` with the given track, over `duration` s. */
  const graphOf = (track: PaintItem['track'], duration: number) =>
    buildMotionGraph(
      [base, { name: 'a', file: 'a', place, track }],
      { width: 100, height: 100 },
      { fps: 30, duration },
    );

  it('ends on the final still when every track ends at rest', () => {
    const g = graphOf(
      {
        opacity: [
          { t: 0, value: 0, ease: 'linear' },
          { t: 1, value: 1, ease: 'linear' },
        ],
      },
      5,
    );
    assert.ok(g.usesFinalStill);
    assert.match(g.filter, /fade=t=in:st=0:d=1:alpha=1/);
    assert.match(g.filter, /trim=end=1,/);
    assert.match(g.filter, /concat=n=2/);
    assert.deepEqual(g.commands, {}, 'a linear 0-to-1 fade needs no per-frame commands');
    const eased = graphOf(
      {
        opacity: [
          { t: 0, value: 0, ease: 'linear' },
          { t: 1, value: 1, ease: 'out' },
        ],
      },
      5,
    );
    assert.doesNotMatch(eased.filter, /fade=/, 'fade is linear: an eased fade takes the mixer');
    assert.match(eased.filter, /format=rgba,loop=.*,colorchannelmixer=aa=0:enable=/);
  });

  it('animates the whole video when a track does not end at rest', () => {
    const g = graphOf(
      {
        scale: [
          { t: 0, value: 1, ease: 'out' },
          { t: 1, value: 1.2, ease: 'out' },
        ],
      },
      5,
    );
    assert.equal(g.usesFinalStill, false);
    assert.doesNotMatch(g.filter, /concat/);
    assert.deepEqual(Object.keys(g.commands), ['scale-l1.txt']);
    assert.match(g.filter, /sendcmd=f=scale-l1\.txt,scale@l1=w=40:h=40/);
  });

  it('uses per-frame alpha mixers for opacities between 0 and 1', () => {
    const g = graphOf(
      {
        opacity: [
          { t: 0, value: 0.3, ease: 'out' },
          { t: 1, value: 1, ease: 'out' },
        ],
      },
      2,
    );
    assert.deepEqual(g.commands, {});
    assert.match(g.filter, /colorchannelmixer=aa=0\.302:enable='lt\(t,0\.0167\)'/);
  });
});

describe('rendered motion', () => {
  let dir: string;
  const W = 160;
  const H = 160;
  const encoder: EncoderSettings = { preset: 'ultrafast', bitrate: 600_000 };

  async function rawFile(
    name: string,
    width: number,
    height: number,
    rgba: [number, number, number, number],
  ) {
    const file = path.join(dir, `${name}.rgba`);
    const data = await sharp({
      create: {
        width,
        height,
        channels: 4,
        background: { r: rgba[0], g: rgba[1], b: rgba[2], alpha: rgba[3] / 255 },
      },
    })
      .raw()
      .toBuffer();
    fs.writeFileSync(file, data);
    return file;
  }

  /** RGB of the pixel (x, y) of the frame shown at time t. */
  function pixel(video: string, t: number, x: number, y: number): [number, number, number] {
    const res = spawnSync(
      mediaTools().ffmpeg.path,
      [
        '-v',
        'error',
        '-ss',
        String(t),
        '-i',
        video,
        '-frames:v',
        '1',
        '-f',
        'rawvideo',
        '-pix_fmt',
        'rgb24',
        'pipe:1',
      ],
      { maxBuffer: 1 << 24 },
    );
    assert.equal(res.status, 0, res.stderr?.toString());
    const i = (y * W + x) * 3;
    return [res.stdout[i]!, res.stdout[i + 1]!, res.stdout[i + 2]!];
  }

  const near = (a: number[], b: number[], tol = 24) =>
    assert.ok(
      a.every((v, i) => Math.abs(v - b[i]!) <= tol),
      `${a.join(',')} is not near ${b.join(',')}`,
    );

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adloop-motion-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('fades, moves and scales layers as keyframed, then holds the final still', async () => {
    const bg = await rawFile('bg', W, H, [0, 0, 0, 255]);
    const red = await rawFile('red', 40, 40, [255, 0, 0, 255]);
    const blue = await rawFile('blue', 40, 40, [0, 0, 255, 255]);
    const final = path.join(dir, 'final.rgba');
    // The final still is the design at rest: red at (20,20), blue at (100,100).
    const still = await sharp(fs.readFileSync(bg), { raw: { width: W, height: H, channels: 4 } })
      .composite([
        {
          input: fs.readFileSync(red),
          raw: { width: 40, height: 40, channels: 4 },
          left: 20,
          top: 20,
        },
        {
          input: fs.readFileSync(blue),
          raw: { width: 40, height: 40, channels: 4 },
          left: 100,
          top: 100,
        },
      ])
      .raw()
      .toBuffer();
    fs.writeFileSync(final, still);
    const out = path.join(dir, 'out.mp4');
    await encodeMotion({
      items: [
        { name: 'bg', file: bg, place: { x: 0, y: 0, width: W, height: H } },
        {
          name: 'red',
          file: red,
          place: { x: 20, y: 20, width: 40, height: 40 },
          track: {
            opacity: [
              { t: 0.5, value: 0, ease: 'linear' },
              { t: 1, value: 1, ease: 'linear' },
            ],
          },
        },
        {
          name: 'blue',
          file: blue,
          place: { x: 100, y: 100, width: 40, height: 40 },
          track: {
            // Starts half a canvas to the left, arrives at 1 s; grows from half size.
            position: [
              { t: 0, x: -0.5, y: 0, ease: 'linear' },
              { t: 1, x: 0, y: 0, ease: 'linear' },
            ],
            scale: [
              { t: 0, value: 0.5, ease: 'linear' },
              { t: 1, value: 1, ease: 'linear' },
            ],
          },
        },
      ],
      finalStill: final,
      canvas: { width: W, height: H },
      motion: { fps: 30, duration: 3 },
      encoder,
      workDir: dir,
      out,
    });
    const probe = await probeVideo(out);
    assert.equal(probe.videoCodec, 'h264');
    assert.equal(probe.pixelFormat, 'yuv420p');
    assert.ok(Math.abs(probe.durationSeconds - 3) < 0.05, `${probe.durationSeconds} s`);
    assert.ok(probe.bitrate > 300_000, `constant rate: ${probe.bitrate} bit/s`);

    // Every frame of the moving part is a new picture: no frame repeated by a coarser time base.
    const md5 = spawnSync(
      mediaTools().ffmpeg.path,
      ['-v', 'error', '-i', out, '-f', 'framemd5', '-'],
      {
        encoding: 'utf8',
      },
    );
    const frames = md5.stdout
      .split('\n')
      .filter((l) => /^\d/.test(l))
      .map((l) => l.split(',').at(-1)!.trim());
    assert.equal(frames.length, 90, '3 s at 30 fps');
    for (let i = 1; i < 30; i++)
      assert.notEqual(frames[i], frames[i - 1], `frame ${i} repeats ${i - 1}`);

    near(pixel(out, 0.2, 40, 40), [0, 0, 0]); // red not visible yet
    near(pixel(out, 2, 40, 40), [255, 0, 0]); // red fully in
    // Blue at t=0: centre at 120-80=40, half size (20 px): covers 30..50 horizontally.
    near(pixel(out, 0, 40, 120), [0, 0, 255]);
    near(pixel(out, 0, 120, 120), [0, 0, 0]);
    // At rest (and in the final still part) blue is at its designed place.
    near(pixel(out, 2.5, 120, 120), [0, 0, 255]);
    near(pixel(out, 2.5, 40, 120), [0, 0, 0]);
  });

  it('places every part of a shipped design on even coordinates (4:2:0 overlay rounds odd ones)', async () => {
    const library = loadTemplateLibrary(path.join(ROOT, 'templates'));
    const photo = await readSourceImage(path.join(ROOT, 'catalog/demo/images/a01.jpg'), 'photo');
    for (const t of library.templates) {
      const variant = t.variants['9:16'];
      const text = Object.fromEntries(
        Object.keys(variant.text).map((k) => [k, `Nova Moreau ${k}`]),
      );
      const c = await composeVariant(t, variant, {
        text,
        images: { photo },
        colors: colorValues(t, {}),
        direction: 'ltr',
      });
      const workDir = fs.mkdtempSync(path.join(dir, `${t.id}-`));
      for (const item of await paintItems(c, workDir))
        for (const v of [item.place.x, item.place.y, item.place.width, item.place.height])
          assert.equal(v % 2, 0, `${t.id} ${item.name} at ${JSON.stringify(item.place)}`);
    }
  });

  it('muxes an audio track, trimmed and padded to the video', async () => {
    const audio = path.join(dir, 'tone.wav');
    const gen = spawnSync(mediaTools().ffmpeg.path, [
      '-v',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=440:duration=1',
      audio,
    ]);
    assert.equal(gen.status, 0);
    const bg = await rawFile('bg2', W, H, [30, 30, 30, 255]);
    const out = path.join(dir, 'audio.mp4');
    await encodeMotion({
      items: [{ name: 'bg', file: bg, place: { x: 0, y: 0, width: W, height: H } }],
      finalStill: bg,
      canvas: { width: W, height: H },
      motion: { fps: 30, duration: 2 },
      audio: { file: audio, fadeOut: 0.5 },
      encoder,
      workDir: dir,
      out,
    });
    const probe = await probeVideo(out);
    assert.ok(probe.hasAudio);
    assert.ok(Math.abs(probe.durationSeconds - 2) < 0.1, `${probe.durationSeconds} s`);
  });
});
