// The renderer end to end on real parts (librsvg, pango, ffmpeg, the local store): what it
// renders, that QA fails crafted bad creatives for the right reason, that right-to-left text is
// shaped and laid out right to left, and that a cache hit renders nothing.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { loadFontManifest } from '../../render/fonts.ts';
import { renderCreative, type RendererDeps } from '../../render/renderer.ts';
import { ASPECT_RATIOS, type AspectRatio, type CreativeSpec } from '../../render/spec.ts';
import { createLocalStore } from '../../render/storage.ts';
import { loadTemplateLibrary } from '../../render/template.ts';
import { fitText } from '../../render/text-fit.ts';
import { ROOT } from '../helpers/stack.ts';

const SIZES: Record<AspectRatio, [number, number]> = {
  '1:1': [1080, 1080],
  '4:5': [1080, 1350],
  '9:16': [1080, 1920],
  '16:9': [1920, 1080],
};
const FONT = ['Noto Sans', 'Noto Sans Arabic', 'Noto Sans Hebrew'];
const PHOTO = path.join(ROOT, 'catalog/demo/images/a01.jpg');

let tmp: string;
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'adloop-renderer-'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface Probe {
  /** Text box [x, y, w, h] on every ratio, as a fraction of the canvas. */
  box?: [number, number, number, number];
  size?: number;
  minSize?: number;
  color?: string;
  /** Canvas colour (the text's background). */
  background?: string;
  /** Photo drawn at this size (px, square). */
  photo?: number;
  /** Canvas size of the 1:1 variant. */
  square?: number;
  duration?: number;
}

/** A one-template library (`probe`) built to the given measurements: a crafted creative. */
function probeRenderer(name: string, p: Probe = {}): RendererDeps {
  const dir = path.join(tmp, name, 'probe');
  fs.mkdirSync(dir, { recursive: true });
  const [bx, by, bw, bh] = p.box ?? [0.2, 0.3, 0.6, 0.2];
  const variants: Record<string, unknown> = {};
  for (const ratio of ASPECT_RATIOS) {
    let [w, h] = SIZES[ratio];
    if (ratio === '1:1' && p.square) [w, h] = [p.square, p.square];
    const photo = Math.min(p.photo ?? 300, w, h);
    const stem = ratio.replace(':', 'x');
    fs.writeFileSync(
      path.join(dir, `${stem}.svg`),
      `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">` +
        `<rect width="${w}" height="${h}" fill="${p.background ?? '#101018'}"/>` +
        `<image x="0" y="0" width="${photo}" height="${photo}" xlink:href="{{photo}}"/>` +
        `<g id="layer-badge"><rect x="${w - 200}" y="40" width="120" height="60" fill="{{accent}}"/></g></svg>`,
    );
    variants[ratio] = {
      width: w,
      height: h,
      images: { photo: { width: photo, height: photo } },
      text: {
        title: {
          box: [Math.round(bx * w), Math.round(by * h), Math.round(bw * w), Math.round(bh * h)],
          font: FONT,
          weight: 700,
          size: p.size ?? 64,
          minSize: p.minSize ?? 32,
          color: p.color ?? '#ffffff',
        },
      },
    };
  }
  fs.writeFileSync(
    path.join(dir, 'template.json'),
    JSON.stringify({
      id: 'probe',
      version: 1,
      name: 'QA probe',
      theme: 'probe',
      languages: ['en', 'ar'],
      slots: {
        photo: { type: 'image', source: 'artist.image' },
        title: { type: 'text', source: 'artist.name' },
        accent: { type: 'color', default: '#1ed760' },
      },
      variants,
      motion: {
        duration: p.duration ?? 6,
        fps: 30,
        layers: {
          title: {
            opacity: [
              { t: 0, value: 0 },
              { t: 0.5, value: 1 },
            ],
          },
          'layer-badge': {
            scale: [
              { t: 0, value: 0.5 },
              { t: 0.6, value: 1 },
            ],
          },
        },
      },
    }),
  );
  return {
    library: loadTemplateLibrary(path.dirname(dir)),
    fonts: loadFontManifest(path.join(ROOT, 'templates/fonts.json')),
    store: createLocalStore(path.join(tmp, name, 'store')),
    workDir: tmp,
  };
}

function spec(over: Partial<CreativeSpec> = {}): CreativeSpec {
  return {
    templateId: 'probe',
    templateVersion: 1,
    language: 'en',
    direction: 'ltr',
    text: { title: 'Nova Moreau' },
    images: { photo: PHOTO },
    colors: {},
    ratios: ['1:1', '9:16'],
    kinds: ['static'],
    staticFormat: 'jpeg',
    ...over,
  };
}

/** The findings of every asset, as `check/platform` strings. */
async function findings(deps: RendererDeps, s: CreativeSpec) {
  const out = await renderCreative(s, deps);
  return {
    out,
    checks: new Set(
      out.assets.flatMap((a) => a.qa.findings.map((f) => `${f.check}/${f.platform ?? 'all'}`)),
    ),
    messages: out.assets.flatMap((a) => a.qa.findings.map((f) => f.message)).join('\n'),
  };
}

describe('renderer', () => {
  it('renders statics and motion that pass QA, and a cache hit renders nothing', async () => {
    const deps = probeRenderer('good');
    const s = spec({
      ratios: [...ASPECT_RATIOS],
      kinds: ['static', 'motion'],
      staticFormat: 'png',
    });
    const first = await renderCreative(s, deps);
    assert.equal(first.rendered, 8);
    assert.equal(first.cached, 0);
    for (const { asset, qa } of first.assets) {
      assert.deepEqual(qa.findings, [], `${asset.ratio} ${asset.kind}`);
      const file = await deps.store.localPath(asset.key);
      if (asset.kind === 'static') {
        const meta = await sharp(file).metadata();
        assert.equal(meta.format, 'png');
        assert.deepEqual([meta.width, meta.height], SIZES[asset.ratio]);
      } else {
        assert.ok(Math.abs((asset.durationSeconds ?? 0) - 6) < 0.05, `${asset.durationSeconds}`);
        assert.ok((asset.bitrate ?? 0) >= 516_000, `TikTok's floor: ${asset.bitrate}`);
      }
    }
    const files = await Promise.all(first.assets.map((a) => deps.store.localPath(a.asset.key)));
    const mtimes = files.map((f) => fs.statSync(f).mtimeMs);

    const again = await renderCreative(s, deps);
    assert.equal(again.rendered, 0, 'a cache hit renders nothing');
    assert.equal(again.cached, 8);
    assert.equal(again.hash, first.hash);
    assert.deepEqual(
      again.assets.map((a) => [a.asset, a.qa]),
      first.assets.map((a) => [a.asset, a.qa]),
    );
    assert.deepEqual(
      files.map((f) => fs.statSync(f).mtimeMs),
      mtimes,
    );

    const other = await renderCreative(
      { ...s, text: { title: 'Another Artist' }, kinds: ['static'] },
      deps,
    );
    assert.notEqual(other.hash, first.hash, 'other inputs, another creative');
    assert.equal(other.rendered, 4);
  });

  it('refuses a spec that does not match its template, naming the slot', async () => {
    const deps = probeRenderer('spec');
    await assert.rejects(renderCreative(spec({ text: {} }), deps), /text slot "title" has no text/);
    await assert.rejects(
      renderCreative(spec({ colors: { accent: 'green' } }), deps),
      /colour slot "accent" is "green", expected #rrggbb/,
    );
    await assert.rejects(
      renderCreative(spec({ templateVersion: 2 }), deps),
      /template version 2 requested, the library has 1/,
    );
    await assert.rejects(
      renderCreative(spec({ images: { photo: path.join(tmp, 'nope.jpg') } }), deps),
      /image slot photo: cannot read .*nope\.jpg/,
    );
  });
});

describe('QA on crafted bad creatives', () => {
  it('text that cannot fit even at its minimum size: overflow', async () => {
    const deps = probeRenderer('overflow', { box: [0.3, 0.3, 0.3, 0.05], size: 80, minSize: 70 });
    const { checks, messages } = await findings(
      deps,
      spec({ text: { title: 'Bartholomew Featherstonehaugh and the Extraordinarily Long Band' } }),
    );
    assert.ok(checks.has('text-overflow/all'), [...checks].join(' '));
    assert.match(messages, /title/);
  });

  it('characters no pinned font has: missing glyphs', async () => {
    const { checks, messages } = await findings(
      probeRenderer('glyphs'),
      spec({ text: { title: '音楽 Nova' } }),
    );
    assert.ok(checks.has('missing-glyphs/all'), [...checks].join(' '));
    assert.match(messages, /U\+97F3/);
  });

  it('light text on a light background: contrast', async () => {
    const { checks } = await findings(
      probeRenderer('contrast', { background: '#f4f4f4', color: '#dddddd' }),
      spec(),
    );
    assert.ok(checks.has('text-contrast/all'), [...checks].join(' '));
  });

  it('text where TikTok draws its caption: safe zone', async () => {
    const { out, checks } = await findings(
      probeRenderer('safe-zone', { box: [0.2, 0.8, 0.6, 0.1] }),
      spec({ ratios: ['9:16'] }),
    );
    assert.ok(checks.has('safe-zone/tiktok'), [...checks].join(' '));
    assert.ok(checks.has('safe-zone/meta'), [...checks].join(' '));
    // A 9:16 still is not placed on Google at all (its images are 1:1 and 4:5): not checked there.
    assert.ok(!checks.has('safe-zone/google'), [...checks].join(' '));
    assert.deepEqual(out.assets[0]!.qa.platforms, { meta: false, tiktok: false, google: false });
  });

  it('a photo drawn far larger than it is: image resolution', async () => {
    const small = path.join(tmp, 'small.jpg');
    await sharp(PHOTO).resize(200).toFile(small);
    const { checks } = await findings(
      probeRenderer('resolution', { photo: 1000 }),
      spec({ images: { photo: small } }),
    );
    assert.ok(checks.has('image-resolution/all'), [...checks].join(' '));
  });

  it('a canvas smaller than the platforms accept: dimensions', async () => {
    const { checks } = await findings(
      probeRenderer('dimensions', { square: 500 }),
      spec({ ratios: ['1:1'] }),
    );
    assert.ok(checks.has('dimensions/meta'), [...checks].join(' '));
    assert.ok(checks.has('dimensions/tiktok'), [...checks].join(' '));
    // 500 px is above Google's 320 px image minimum.
    assert.ok(!checks.has('dimensions/google'), [...checks].join(' '));
  });

  it('a video shorter than the platforms accept: duration', async () => {
    const { out, checks } = await findings(
      probeRenderer('duration', { duration: 2 }),
      spec({ ratios: ['9:16'], kinds: ['motion'] }),
    );
    // 2 s: under Meta's and Google's 3 s and TikTok's 5 s.
    assert.ok(checks.has('duration/meta'), [...checks].join(' '));
    assert.ok(checks.has('duration/tiktok'), [...checks].join(' '));
    assert.ok(checks.has('duration/google'), [...checks].join(' '));
    assert.deepEqual(out.assets[0]!.qa.platforms, { meta: false, tiktok: false, google: false });
  });
});

describe('right-to-left text', () => {
  const style = {
    box: [100, 100, 800, 200] as [number, number, number, number],
    font: FONT,
    weight: 700 as const,
    size: 72,
    minSize: 40,
    color: '#ffffff',
    align: 'start' as const,
    valign: 'middle' as const,
  };

  it('is shaped: joined Arabic is narrower than the same letters kept apart', async () => {
    const word = 'مستمع';
    const joined = await fitText(word, style, '#ffffff', 'rtl');
    // Zero-width non-joiners keep each letter in its isolated form without adding space.
    const isolated = await fitText([...word].join('\u200c'), style, '#ffffff', 'rtl');
    assert.ok(joined.fits && isolated.fits, 'both fit');
    assert.ok(
      joined.ink.width < isolated.ink.width * 0.9,
      `joined ${joined.ink.width} px, isolated ${isolated.ink.width} px`,
    );
  });

  it('starts at the right: the first word of an RTL line is drawn right of the Latin one', async () => {
    // Arabic (red) then a Latin name (blue) in logical order: in a right-to-left paragraph the
    // Arabic comes first from the right.
    const { data, info } = await sharp({
      text: {
        text: '<span foreground="#ff0000">استمع الآن</span> <span foreground="#0000ff">Nova</span>',
        font: 'Noto Sans, Noto Sans Arabic, Bold 64px',
        rgba: true,
      },
    })
      .raw()
      .toBuffer({ resolveWithObject: true });
    let redX = 0;
    let red = 0;
    let blueX = 0;
    let blue = 0;
    for (let y = 0; y < info.height; y++)
      for (let x = 0; x < info.width; x++) {
        const i = (y * info.width + x) * 4;
        if (data[i + 3]! < 128) continue;
        if (data[i]! > 200 && data[i + 2]! < 60) {
          redX += x;
          red++;
        }
        if (data[i + 2]! > 200 && data[i]! < 60) {
          blueX += x;
          blue++;
        }
      }
    assert.ok(red > 0 && blue > 0, 'both runs drawn');
    assert.ok(redX / red > blueX / blue, 'Arabic run right of the Latin run');
  });

  it('aligns to the start of the box, which is its right edge', async () => {
    const rtl = await fitText('استمع الآن', style, '#ffffff', 'rtl');
    const ltr = await fitText('Listen now', style, '#ffffff', 'ltr');
    assert.equal(rtl.ink.x + rtl.ink.width, 900, 'flush right');
    assert.equal(ltr.ink.x, 100, 'flush left');
  });
});
