import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import type { Sharp } from 'sharp';
import {
  loadFontManifest,
  useManifestFonts,
  missingCodepoints,
  pangoFontDescription,
  type FontManifest,
} from '../../render/fonts.ts';
import { deployAssets, pickDeployAsset } from '../../activities/render/render.ts';
import type { DeploySlot } from '../../core/types.ts';
import { safeArea, strictestSafeArea, type Platform } from '../../render/platform-specs.ts';
import {
  checkCreative,
  contrastRatio,
  type QaCheck,
  type QaReport,
  type QaSubject,
  type TextPlacement,
} from '../../render/qa.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const FONTS_JSON = path.join(ROOT, 'templates/fonts.json');
/** Every platform adloop deploys to. */
const ALL: Platform[] = ['meta', 'tiktok', 'google'];

type Background = NonNullable<QaSubject['background']>;

async function raw(image: Sharp): Promise<Background> {
  const { data, info } = await image.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels as 3 };
}

function solid(width: number, height: number, background: string): Promise<Background> {
  return raw(sharp({ create: { width, height, channels: 3, background } }));
}

/** Black and white stripes, `band` px each: mid-grey on average, but half of it is white. */
function stripes(width: number, height: number, band: number): Promise<Background> {
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `<defs><pattern id="p" width="${width}" height="${band * 2}" patternUnits="userSpaceOnUse">` +
    `<rect width="${width}" height="${band}" fill="#000"/>` +
    `<rect y="${band}" width="${width}" height="${band}" fill="#fff"/></pattern></defs>` +
    `<rect width="${width}" height="${height}" fill="url(#p)"/></svg>`;
  return raw(sharp(Buffer.from(svg)));
}

/** White with a screen of 1 px black dots covering about `share` of it. */
function speckled(width: number, height: number, share: number): Promise<Background> {
  const step = Math.round(1 / Math.sqrt(share));
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `<defs><pattern id="d" width="${step}" height="${step}" patternUnits="userSpaceOnUse">` +
    `<rect width="${step}" height="${step}" fill="#fff"/><rect width="1" height="1" fill="#000"/>` +
    `</pattern></defs><rect width="${width}" height="${height}" fill="url(#d)"/></svg>`;
  return raw(sharp(Buffer.from(svg)));
}

function headline(over: Partial<TextPlacement> = {}): TextPlacement {
  return {
    slot: 'headline',
    text: 'New music every day',
    box: { x: 180, y: 380, width: 720, height: 240 },
    ink: { x: 200, y: 400, width: 600, height: 200 },
    fontSizePx: 64,
    minFontSizePx: 32,
    bold: true,
    fits: true,
    color: '#ffffff',
    fontFamilies: ['Noto Sans', 'Noto Sans Arabic'],
    missingCodepoints: [],
    ...over,
  };
}

const dark = await solid(1080, 1920, '#101010');

/** A 9:16 motion creative that every check passes. */
function goodMotion(over: Partial<QaSubject> = {}): QaSubject {
  return {
    ratio: '9:16',
    kind: 'motion',
    format: 'mp4',
    width: 1080,
    height: 1920,
    bytes: 8_000_000,
    durationSeconds: 10,
    bitrate: 6_000_000,
    videoCodec: 'h264',
    pixelFormat: 'yuv420p',
    texts: [headline()],
    images: [
      {
        slot: 'artist',
        sourceWidth: 1500,
        sourceHeight: 1500,
        drawnWidth: 1080,
        drawnHeight: 1080,
      },
    ],
    background: dark,
    ...over,
  };
}

/** A 1:1 static creative that every check passes. */
function goodStatic(over: Partial<QaSubject> = {}): QaSubject {
  return {
    ratio: '1:1',
    kind: 'static',
    format: 'jpeg',
    width: 1080,
    height: 1080,
    bytes: 400_000,
    texts: [headline()],
    images: [],
    background: { ...dark, height: 1080, data: dark.data.subarray(0, 1080 * 1080 * 3) },
    ...over,
  };
}

function only(report: QaReport, check: QaCheck) {
  const f = report.findings.filter((x) => x.check === check);
  assert.ok(f.length > 0, `expected a ${check} finding, got ${JSON.stringify(report.findings)}`);
  assert.equal(report.passed, false);
  return f;
}

describe('QA checks', () => {
  it('passes good motion and static creatives on every platform', () => {
    // 9:16 motion and 1:1 static are placed by all three, within every limit.
    for (const subject of [goodMotion(), goodStatic()]) {
      const r = checkCreative(subject, ALL);
      assert.deepEqual(r.findings, []);
      assert.equal(r.passed, true);
      assert.deepEqual(r.platforms, { meta: true, tiktok: true, google: true });
    }
  });

  it('text-overflow: text that does not fit, or ink outside its box', () => {
    const notFit = checkCreative(goodMotion({ texts: [headline({ fits: false })] }), ALL);
    const [f] = only(notFit, 'text-overflow');
    assert.equal(f!.platform, null);
    assert.equal(f!.slot, 'headline');
    assert.match(f!.message, /headline.*720×240.*minimum size 32 px/);
    assert.deepEqual(notFit.platforms, { meta: false, tiktok: false, google: false });

    const spill = { x: 200, y: 400, width: 720, height: 200 }; // right edge 920 > box's 900
    const out = checkCreative(goodMotion({ texts: [headline({ ink: spill })] }), ALL);
    assert.match(only(out, 'text-overflow')[0]!.message, /by 20 px at the right/);

    // One pixel of anti-aliased fringe is tolerated.
    const fringe = { x: 179, y: 379, width: 722, height: 242 };
    assert.equal(
      checkCreative(goodMotion({ texts: [headline({ ink: fringe })] }), ALL).passed,
      true,
    );
  });

  it('missing-glyphs: lists the code points and characters no font has', () => {
    const r = checkCreative(
      goodMotion({ texts: [headline({ text: '你 😀', missingCodepoints: [0x4f60, 0x1f600] })] }),
      ALL,
    );
    const [f] = only(r, 'missing-glyphs');
    assert.equal(f!.platform, null);
    assert.match(f!.message, /headline.*Noto Sans, Noto Sans Arabic.*U\+4F60 你, U\+1F600 😀/);
  });

  it('text-contrast: WCAG AA, 4.5:1 normal and 3:1 large text, on real pixels', async () => {
    const white = await solid(1080, 1920, '#ffffff');
    const grey = (over: Partial<TextPlacement>) =>
      goodMotion({
        background: white,
        texts: [headline({ color: '#777777', minFontSizePx: 12, ...over })],
      });
    // #777 on white is 4.48:1: fails as normal text...
    const small = checkCreative(grey({ fontSizePx: 16, bold: false }), ALL);
    assert.match(only(small, 'text-contrast')[0]!.message, /4\.48:1.*below the 4\.5:1.*normal/);
    assert.equal(checkCreative(grey({ fontSizePx: 18, bold: true }), ALL).passed, false);
    // ...and passes as large text (24 px, or 18.66 px bold).
    assert.equal(checkCreative(grey({ fontSizePx: 24, bold: false }), ALL).passed, true);
    assert.equal(checkCreative(grey({ fontSizePx: 19, bold: true }), ALL).passed, true);

    // White on black and white stripes: a mean colour would be a passing grey; half the text
    // sits on white, so it fails.
    const striped = await stripes(1080, 1920, 6);
    const r = checkCreative(goodMotion({ background: striped }), ALL);
    assert.match(only(r, 'text-contrast')[0]!.message, /1\.00:1/);

    // A few stray dark pixels (about 1% of the area) under black text do not fail it.
    const dots = await speckled(1080, 1920, 0.01);
    const black = headline({ color: '#000000' });
    assert.equal(checkCreative(goodMotion({ background: dots, texts: [black] }), ALL).passed, true);
    // A dot screen covering 11% is more than stray pixels. Its 3 px period would alias with a
    // fixed sampling grid of stride 6 and be missed entirely.
    const screen = await speckled(1080, 1920, 1 / 9);
    const dense = checkCreative(goodMotion({ background: screen, texts: [black] }), ALL);
    assert.match(only(dense, 'text-contrast')[0]!.message, /1\.00:1/);

    // A background at half the canvas size is measured at the scaled position.
    const half = await raw(
      sharp({ create: { width: 540, height: 960, channels: 3, background: '#ffffff' } }),
    );
    const scaled = checkCreative(goodMotion({ background: half, texts: [headline()] }), ALL);
    assert.match(only(scaled, 'text-contrast')[0]!.message, /1\.00:1/);
  });

  it('text-contrast costs well under 5 ms for a 1000x300 box', () => {
    const noise = Buffer.alloc(1080 * 1920 * 3);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
    const subject = goodMotion({
      background: { data: noise, width: 1080, height: 1920, channels: 3 },
      texts: [
        headline({
          box: { x: 40, y: 800, width: 1000, height: 300 },
          ink: { x: 40, y: 800, width: 1000, height: 300 },
        }),
      ],
      images: [],
    });
    for (let i = 0; i < 20; i++) checkCreative(subject, []); // warm up the JIT
    const runs = 200;
    const start = process.hrtime.bigint();
    for (let i = 0; i < runs; i++) checkCreative(subject, []);
    const ms = Number(process.hrtime.bigint() - start) / 1e6 / runs;
    assert.ok(ms < 5, `checkCreative took ${ms.toFixed(3)} ms`);
  });

  it('safe-zone: per platform, from each platform’s own margins', () => {
    const at = (ink: { x: number; y: number; width: number; height: number }) =>
      checkCreative(
        goodMotion({
          texts: [headline({ box: { x: 0, y: 0, width: 1080, height: 1920 }, ink })],
        }),
        ALL,
      );

    // Google's 9:16 (YouTube Shorts) margins are Meta's Reels figures, so Google fails exactly
    // where Meta does.
    // Bottom third: under Reels' (and Shorts') caption (35%) and TikTok's caption and CTA.
    const bottom = at({ x: 200, y: 1500, width: 600, height: 100 });
    const f = only(bottom, 'safe-zone');
    assert.deepEqual(f.map((x) => x.platform).sort(), ['google', 'meta', 'tiktok']);
    assert.match(f[0]!.message, /headline.*safe area.*at the bottom/);
    assert.deepEqual(bottom.platforms, { meta: false, tiktok: false, google: false });

    // Right edge: under TikTok's like/share rail (15%), clear of Meta's and Google's 6% side margin.
    const right = at({ x: 700, y: 800, width: 300, height: 100 });
    assert.deepEqual(
      only(right, 'safe-zone').map((x) => x.platform),
      ['tiktok'],
    );
    assert.deepEqual(right.platforms, { meta: true, tiktok: false, google: true });

    // Between TikTok's top bar (12.5% = 240 px) and Meta's and Google's 14% (269 px).
    const top = at({ x: 200, y: 250, width: 600, height: 100 });
    assert.deepEqual(
      only(top, 'safe-zone').map((x) => x.platform),
      ['meta', 'google'],
    );
    assert.deepEqual(top.platforms, { meta: false, tiktok: true, google: false });
  });

  it('safe areas: published margins in pixels, TikTok letterboxing, intersection', () => {
    // Meta Reels: 14% top, 35% bottom, 6% sides of 1080x1920.
    assert.deepEqual(safeArea('meta', '9:16', 1080, 1920), {
      x: 65,
      y: 269,
      width: 950,
      height: 979,
    });
    // TikTok 9:16: 12.5% top, 35% bottom, 11% left, 15% right.
    assert.deepEqual(safeArea('tiktok', '9:16', 1080, 1920), {
      x: 119,
      y: 240,
      width: 799,
      height: 1008,
    });
    assert.deepEqual(strictestSafeArea(ALL, '9:16', 1080, 1920), {
      x: 119,
      y: 269,
      width: 799,
      height: 979,
    });
    assert.deepEqual(strictestSafeArea([], '9:16', 1080, 1920), {
      x: 0,
      y: 0,
      width: 1080,
      height: 1920,
    });
    // A 1:1 video in TikTok's 9:16 player sits at y 420–1500 of 1920; the caption area starts
    // at 1248, so 252 px of the square's bottom are covered and its top is clear.
    const square = safeArea('tiktok', '1:1', 1080, 1080);
    assert.equal(square.y, 0);
    assert.equal(1080 - (square.y + square.height), 252);
    // Feed ratios on Meta keep only a small edge margin.
    assert.deepEqual(safeArea('meta', '4:5', 1080, 1350), {
      x: 54,
      y: 68,
      width: 972,
      height: 1214,
    });
    // Google: the same 5% card margin on its image ratios, Meta's Reels margins on 9:16.
    assert.deepEqual(safeArea('google', '1:1', 1080, 1080), {
      x: 54,
      y: 54,
      width: 972,
      height: 972,
    });
    assert.deepEqual(safeArea('google', '9:16', 1080, 1920), safeArea('meta', '9:16', 1080, 1920));
  });

  it('a platform that does not place the ratio is not checked and not deployable', () => {
    // TikTok takes no 4:5 video: no TikTok finding, Meta and Google (YouTube) deployable, TikTok not.
    const subject = goodMotion({ ratio: '4:5', width: 1080, height: 1350 });
    const r = checkCreative(subject, ALL);
    assert.deepEqual(r.findings, []);
    assert.deepEqual(r.platforms, { meta: true, tiktok: false, google: true });
    // Asked only for TikTok, the creative goes nowhere: that is a failure with a reason.
    const tiktokOnly = checkCreative(subject, ['tiktok']);
    assert.match(only(tiktokOnly, 'dimensions')[0]!.message, /4:5 motion.*tiktok takes 9:16/);
    // Platforms not asked for are not deployable either.
    assert.deepEqual(checkCreative(goodMotion(), ['meta']).platforms, {
      meta: true,
      tiktok: false,
      google: false,
    });
  });

  it('google places 9:16 video but no 9:16 image (App campaign images are 1:1 and 4:5)', () => {
    const tall = goodStatic({ ratio: '9:16', width: 1080, height: 1920, background: dark });
    const still = checkCreative(tall, ALL);
    assert.deepEqual(still.findings, [], 'not placed is not a defect: no google finding');
    assert.deepEqual(still.platforms, { meta: true, tiktok: true, google: false });
    const googleOnly = checkCreative(tall, ['google']);
    assert.match(
      only(googleOnly, 'dimensions')[0]!.message,
      /no requested platform places 9:16 static.*google takes 1:1, 4:5/,
    );
    // The same ratio as a video goes to YouTube.
    const video = checkCreative(goodMotion(), ['google']);
    assert.deepEqual(video.findings, []);
    assert.deepEqual(video.platforms, { meta: false, tiktok: false, google: true });
  });

  it('image-resolution: a source upscaled more than 10% is pixelated', () => {
    const small = {
      slot: 'artist',
      sourceWidth: 500,
      sourceHeight: 500,
      drawnWidth: 1080,
      drawnHeight: 1080,
    };
    const r = checkCreative(goodMotion({ images: [small] }), ALL);
    const [f] = only(r, 'image-resolution');
    assert.equal(f!.platform, null);
    assert.match(f!.message, /artist.*500×500.*1080×1080.*2\.16×/);
    const slight = { ...small, sourceWidth: 1000, sourceHeight: 1000 }; // 1.08x
    assert.equal(checkCreative(goodMotion({ images: [slight] }), ALL).passed, true);
  });

  it('file-size: per platform limits for images and videos', () => {
    // 35 MB image: over Meta's 30 MB and Google's 5,120 KB, within TikTok's 100 MB.
    const image = checkCreative(goodStatic({ bytes: 35_000_000 }), ALL);
    assert.deepEqual(
      only(image, 'file-size').map((f) => f.platform),
      ['meta', 'google'],
    );
    assert.deepEqual(image.platforms, { meta: false, tiktok: true, google: false });
    // 600 MB video: over TikTok's 500 MB, within Meta's 2.3 GB and YouTube's 256 GB.
    const video = checkCreative(goodMotion({ bytes: 600_000_000, bitrate: 6_000_000 }), ALL);
    assert.deepEqual(
      only(video, 'file-size').map((f) => f.platform),
      ['tiktok'],
    );
    assert.match(
      only(checkCreative(goodStatic({ bytes: 0 }), ALL), 'file-size')[0]!.message,
      /empty/,
    );
  });

  it('file-size: a square JPEG over 5,120 KB fails Google only', () => {
    // Google says 5,120 KB; adloop reads it as 5,120,000 bytes (the smaller reading is safe).
    const limit = 5_120_000;
    assert.equal(checkCreative(goodStatic({ bytes: limit }), ALL).passed, true);
    const over = checkCreative(goodStatic({ bytes: limit + 1 }), ALL);
    const f = only(over, 'file-size');
    assert.deepEqual(
      f.map((x) => x.platform),
      ['google'],
    );
    assert.match(f[0]!.message, /over google's image limit of 5\.12 MB/);
    assert.deepEqual(over.platforms, { meta: true, tiktok: true, google: false });
    // The limit is for images: a video that size is far within YouTube's 256 GB.
    assert.equal(checkCreative(goodMotion({ bytes: limit + 1 }), ALL).passed, true);
  });

  it('duration: per platform ranges, unknown fails everywhere', () => {
    // 4 s: TikTok wants at least 5, Meta and Google 3.
    const short = checkCreative(goodMotion({ durationSeconds: 4 }), ALL);
    assert.deepEqual(
      only(short, 'duration').map((f) => f.platform),
      ['tiktok'],
    );
    assert.match(only(short, 'duration')[0]!.message, /4 s is outside tiktok's 5–60 s/);
    // 61 s: over every platform's 60 s.
    const long = checkCreative(goodMotion({ durationSeconds: 61 }), ALL);
    assert.deepEqual(
      only(long, 'duration').map((f) => f.platform),
      ['meta', 'tiktok', 'google'],
    );
    const unknown = checkCreative(goodMotion({ durationSeconds: undefined }), ALL);
    assert.equal(only(unknown, 'duration')[0]!.platform, null);
  });

  it('video-format: H.264, yuv420p, bitrate range, mp4 for motion', () => {
    const hevc = checkCreative(goodMotion({ videoCodec: 'hevc' }), ALL);
    assert.match(only(hevc, 'video-format')[0]!.message, /hevc is not h264/);
    assert.equal(checkCreative(goodMotion({ videoCodec: 'avc1' }), ALL).passed, true);
    const yuv444 = checkCreative(goodMotion({ pixelFormat: 'yuv444p' }), ALL);
    assert.match(only(yuv444, 'video-format')[0]!.message, /yuv444p is not yuv420p/);
    // 510 kbps: below TikTok's 516 kbps floor, above adloop's 500 kbps floor for Meta and Google.
    const low = checkCreative(goodMotion({ bitrate: 510_000 }), ALL);
    assert.deepEqual(
      only(low, 'video-format').map((f) => f.platform),
      ['tiktok'],
    );
    // 40 Mbps: above the 20 Mbps ceiling adloop sets for every platform.
    const high = checkCreative(goodMotion({ bitrate: 40_000_000 }), ALL);
    assert.deepEqual(
      only(high, 'video-format').map((f) => f.platform),
      ['meta', 'tiktok', 'google'],
    );
    const jpegVideo = checkCreative(goodMotion({ format: 'jpeg' }), ALL);
    assert.equal(only(jpegVideo, 'video-format')[0]!.platform, null);
    const unprobed = checkCreative(goodMotion({ videoCodec: undefined }), ALL);
    assert.match(only(unprobed, 'video-format')[0]!.message, /codec is unknown/);
    const mp4Static = checkCreative(goodStatic({ format: 'mp4' }), ALL);
    assert.match(only(mp4Static, 'video-format')[0]!.message, /static creative is encoded as mp4/);
  });

  it('dimensions: exact ratio within 1% and per platform minimum resolution', () => {
    const off = checkCreative(goodMotion({ width: 1080, height: 1850 }), ALL);
    const [f] = only(off, 'dimensions');
    assert.equal(f!.platform, null);
    assert.match(f!.message, /1080×1850 is not 9:16/);
    // 0.5% off is tolerated.
    assert.equal(checkCreative(goodMotion({ width: 1080, height: 1911 }), ALL).passed, true);

    // 500x889: under Meta's 600 px width and TikTok's 540x960, above YouTube's 240x426.
    const tiny = checkCreative(goodMotion({ width: 500, height: 889, texts: [] }), ALL);
    assert.deepEqual(
      only(tiny, 'dimensions').map((x) => x.platform),
      ['meta', 'tiktok'],
    );
    assert.deepEqual(tiny.platforms, { meta: false, tiktok: false, google: true });
    // A 620x620 image: Meta's 600 px and Google's 320 px minimums are met, TikTok's 640 px is not.
    const image = checkCreative(goodStatic({ width: 620, height: 620, texts: [] }), ALL);
    assert.deepEqual(image.platforms, { meta: true, tiktok: false, google: true });
    assert.match(
      only(image, 'dimensions')[0]!.message,
      /620×620 is below tiktok's minimum image size 640×640/,
    );
  });

  it('contrastRatio matches known WCAG values', () => {
    assert.equal(contrastRatio('#000000', '#ffffff'), 21);
    assert.equal(contrastRatio('#ffffff', '#000000'), 21);
    assert.equal(contrastRatio('#777', '#fff').toFixed(2), '4.48');
    assert.equal(contrastRatio([119, 119, 119], [255, 255, 255]).toFixed(2), '4.48');
    assert.equal(contrastRatio('#1ed760', '#1ed760'), 1);
    // #767676 is the lightest grey that passes AA on white.
    assert.ok(contrastRatio('#767676', '#ffffff') >= 4.5);
    assert.throws(() => contrastRatio('red', '#fff'), /not a colour: "red"/);
  });
});

describe('deploy asset per slot, from the QA verdicts', () => {
  // One creative rendered in every kind and ratio Google could take, each checked on every platform.
  const squareBg = goodStatic().background!;
  const rendered = (over: { static1x1?: Partial<QaSubject> } = {}) => {
    const subjects: QaSubject[] = [
      goodStatic(over.static1x1),
      goodStatic({ ratio: '4:5', width: 1080, height: 1350, background: dark }),
      goodStatic({ ratio: '9:16', width: 1080, height: 1920, background: dark }),
      goodMotion(),
      goodMotion({ ratio: '1:1', width: 1080, height: 1080, background: squareBg }),
    ];
    return subjects.map((s) => ({
      asset: { kind: s.kind, ratio: s.ratio },
      platforms: checkCreative(s, ALL).platforms,
    }));
  };
  const pick = (assets: ReturnType<typeof rendered>, slot: DeploySlot) => {
    const a = pickDeployAsset(assets, slot);
    return a && `${a.kind} ${a.ratio}`;
  };

  it('google takes the 1:1 still, google-video the 9:16 video', () => {
    const assets = rendered();
    // Each passes every check; where it may go is only a matter of which ratios are placed.
    assert.deepEqual(
      assets.map((a) => [`${a.asset.kind} ${a.asset.ratio}`, a.platforms]),
      [
        ['static 1:1', { meta: true, tiktok: true, google: true }],
        ['static 4:5', { meta: true, tiktok: false, google: true }],
        ['static 9:16', { meta: true, tiktok: true, google: false }],
        ['motion 9:16', { meta: true, tiktok: true, google: true }],
        ['motion 1:1', { meta: true, tiktok: true, google: true }],
      ],
    );
    assert.equal(pick(assets, 'google'), 'static 1:1');
    assert.equal(pick(assets, 'google-video'), 'motion 9:16');
    // Meta and TikTok keep their own choices.
    assert.equal(pick(assets, 'meta'), 'static 1:1');
    assert.equal(pick(assets, 'tiktok'), 'motion 9:16');
    assert.deepEqual(
      Object.fromEntries(
        Object.entries(deployAssets(assets)).map(([slot, a]) => [slot, `${a.kind} ${a.ratio}`]),
      ),
      {
        meta: 'static 1:1',
        tiktok: 'motion 9:16',
        google: 'static 1:1',
        'google-video': 'motion 9:16',
        // Meta's video cuts: 9:16 for stories and reels; for feeds 1:1, as there is no 4:5 motion.
        'meta-video-vertical': 'motion 9:16',
        'meta-video-feed': 'motion 1:1',
      },
    );
  });

  it('a Meta video ad takes the 4:5 cut for feeds when there is one, the 9:16 for stories and reels', () => {
    const portrait = goodMotion({
      ratio: '4:5',
      width: 1080,
      height: 1350,
      background: { ...dark, height: 1350, data: dark.data.subarray(0, 1080 * 1350 * 3) },
    });
    const assets = [
      ...rendered(),
      {
        asset: { kind: portrait.kind, ratio: portrait.ratio },
        platforms: checkCreative(portrait, ALL).platforms,
      },
    ];
    assert.equal(pick(assets, 'meta-video-feed'), 'motion 4:5');
    assert.equal(pick(assets, 'meta-video-vertical'), 'motion 9:16');
    assert.equal(pick(assets, 'meta'), 'static 1:1', 'the still stays the fallback');
    // Without motion there is no video ad: only the still.
    const stills = rendered().filter((a) => a.asset.kind === 'static');
    assert.equal(pick(stills, 'meta-video-feed'), null);
    assert.equal(pick(stills, 'meta-video-vertical'), null);
  });

  it('google falls back to the 4:5 still when the square is over its 5,120 KB', () => {
    const assets = rendered({ static1x1: { bytes: 6_000_000 } });
    assert.equal(pick(assets, 'google'), 'static 4:5');
    assert.equal(pick(assets, 'meta'), 'static 1:1', 'Meta takes 6 MB');
  });

  it('google never gets a 9:16 still, and google-video never a still', () => {
    const assets = rendered().filter((a) => a.asset.ratio === '9:16');
    assert.equal(pick(assets, 'google'), null);
    assert.equal(pick(assets, 'google-video'), 'motion 9:16');
    const stills = rendered().filter((a) => a.asset.kind === 'static');
    assert.equal(pick(stills, 'google-video'), null);
    assert.equal(pick(stills, 'google'), 'static 1:1');
  });
});

describe('fonts', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'adloop-fonts-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const manifest: FontManifest = loadFontManifest(FONTS_JSON);
  const stack = ['Noto Sans', 'Noto Sans Arabic', 'Noto Sans Hebrew'];

  function writeManifest(name: string, body: unknown): string {
    const file = path.join(tmp, name);
    fs.writeFileSync(file, JSON.stringify(body));
    return file;
  }

  it('loads the shipped manifest: the Noto fonts in templates/fonts/, with their licence and fontconfig', () => {
    assert.deepEqual(
      manifest.families.map((f) => f.name),
      stack,
    );
    const fontsDir = path.join(ROOT, 'templates/fonts');
    assert.equal(manifest.dir, fontsDir);
    assert.equal(manifest.fontconfig, path.join(fontsDir, 'fonts.conf'));
    assert.match(
      fs.readFileSync(path.join(fontsDir, 'OFL.txt'), 'utf8'),
      /SIL OPEN FONT LICENSE Version 1\.1/,
    );
    for (const f of manifest.families) {
      for (const w of [400, 700] as const) {
        assert.equal(f.files[w].path, path.join(fontsDir, f.files[w].file));
        assert.ok(f.files[w].bytes > 10_000);
      }
    }
    assert.match(manifest.path('Noto Sans', 700), /NotoSans-Bold\.ttf$/);
    assert.match(manifest.hash, /^[0-9a-f]{64}$/);
    assert.equal(loadFontManifest(FONTS_JSON).hash, manifest.hash);
    assert.throws(
      () => manifest.path('Comic Sans', 400),
      /"Comic Sans" is not in the font manifest/,
    );
  });

  it('points fontconfig at the manifest folder, and refuses a second folder in the same process', () => {
    useManifestFonts(manifest);
    assert.equal(process.env.FONTCONFIG_FILE, manifest.fontconfig);
    useManifestFonts(loadFontManifest(FONTS_JSON)); // the same folder again: nothing to change
    fontDir('other', { 'A-Regular.ttf': 100, 'A-Bold.ttf': 100 });
    const other = loadFontManifest(
      writeManifest('other.json', {
        dir: 'other',
        families: [{ name: 'A', files: { 400: 'A-Regular.ttf', 700: 'A-Bold.ttf' } }],
      }),
    );
    assert.throws(() => useManifestFonts(other), /already in use in this process/);
    assert.equal(process.env.FONTCONFIG_FILE, manifest.fontconfig);
  });

  /** A font folder with a fontconfig file and the given files (name -> size in bytes). */
  function fontDir(name: string, files: Record<string, number>): string {
    const dir = path.join(tmp, name);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'fonts.conf'),
      '<fontconfig><dir prefix="relative">.</dir></fontconfig>',
    );
    for (const [file, size] of Object.entries(files))
      fs.writeFileSync(path.join(dir, file), 'x'.repeat(size));
    return dir;
  }

  it('hashes file sizes, so a font upgrade changes the hash', () => {
    const family = { name: 'A', files: { 400: 'A-Regular.ttf', 700: 'A-Bold.ttf' } };
    fontDir('v1', { 'A-Regular.ttf': 100, 'A-Bold.ttf': 100 });
    fontDir('v2', { 'A-Regular.ttf': 100, 'A-Bold.ttf': 101 });
    const before = loadFontManifest(writeManifest('v1.json', { dir: 'v1', families: [family] }));
    assert.equal(before.path('A', 400), path.join(tmp, 'v1', 'A-Regular.ttf'));
    const after = loadFontManifest(writeManifest('v2.json', { dir: 'v2', families: [family] }));
    assert.notEqual(after.hash, before.hash);
  });

  it('names family, weight, file and folder when a font file or the fontconfig file is missing', () => {
    const dir = fontDir('partial', { 'NotoSans-Regular.ttf': 100 });
    const file = writeManifest('missing.json', {
      dir: 'partial',
      families: [
        { name: 'Noto Sans', files: { 400: 'NotoSans-Regular.ttf', 700: 'NotoSans-Missing.ttf' } },
      ],
    });
    assert.throws(
      () => loadFontManifest(file),
      (err: Error) =>
        err.message.includes(
          `"Noto Sans" weight 700: file NotoSans-Missing.ttf not found in ${dir}`,
        ),
    );
    fs.rmSync(path.join(dir, 'fonts.conf'));
    assert.throws(
      () => loadFontManifest(file),
      /fonts\.conf is missing; the font folder needs a fontconfig file/,
    );
  });

  it('names the file and the field when the manifest is invalid', () => {
    const noBold = writeManifest('invalid.json', {
      dir: 'fonts',
      families: [{ name: 'Noto Sans', files: { 400: 'NotoSans-Regular.ttf' } }],
    });
    assert.throws(
      () => loadFontManifest(noBold),
      (err: Error) =>
        err.message.includes(`font manifest ${noBold} is invalid`) &&
        err.message.includes('families[0].files.700'),
    );
    const twice = writeManifest('twice.json', {
      dir: 'fonts',
      families: [0, 1].map(() => ({
        name: 'Noto Sans',
        files: { 400: 'NotoSans-Regular.ttf', 700: 'NotoSans-Bold.ttf' },
      })),
    });
    assert.throws(
      () => loadFontManifest(twice),
      /families\[1\]\.name: family "Noto Sans" is listed twice/,
    );
    const comma = writeManifest('comma.json', {
      dir: 'fonts',
      families: [{ name: 'A, B', files: { 400: 'a.ttf', 700: 'b.ttf' } }],
    });
    assert.throws(
      () => loadFontManifest(comma),
      /families\[0\]\.name: a family name cannot contain a comma/,
    );
    const absolute = writeManifest('absolute.json', {
      dir: '/usr/share/fonts',
      families: [{ name: 'A', files: { 400: 'a.ttf', 700: 'b.ttf' } }],
    });
    assert.throws(
      () => loadFontManifest(absolute),
      /dir: expected a folder relative to the manifest/,
    );
    assert.throws(() => loadFontManifest(path.join(tmp, 'nope.json')), /cannot read font manifest/);
  });

  it('finds the characters no font of the stack covers', () => {
    // Latin, Arabic (with Arabic-Indic digits) and Hebrew are all covered by the Noto stack...
    assert.deepEqual(missingCodepoints(manifest, stack, 400, 'Listen now — استمع الآن ١٢٣'), []);
    assert.deepEqual(missingCodepoints(manifest, stack, 700, 'האזינו עכשיו Ünïcödé'), []);
    // ...as are the invisible characters of bidi text, joiners and variation selectors.
    const invisible =
      '\u200eA\u200f\u061c\u2066B\u2069\u202bC\u202c\u200c\u200d\ufe0f\u{e0100}\t\n';
    assert.deepEqual(missingCodepoints(manifest, stack, 400, invisible), []);
    // CJK and emoji are not: each reported once, in order of first appearance.
    assert.deepEqual(
      missingCodepoints(manifest, stack, 400, 'Hi 你好 😀 你'),
      [0x4f60, 0x597d, 0x1f600],
    );
    // Without the Arabic font, Arabic letters are missing.
    assert.deepEqual(missingCodepoints(manifest, ['Noto Sans'], 400, 'A مع'), [0x645, 0x639]);
    assert.throws(() => missingCodepoints(manifest, ['Nope Sans'], 400, 'x'), /"Nope Sans"/);
  });

  it('builds pango font descriptions that pango sizes in pixels', async () => {
    assert.equal(
      pangoFontDescription(['Noto Sans', 'Noto Sans Arabic'], 700, 48),
      'Noto Sans, Noto Sans Arabic, Bold 48px',
    );
    assert.equal(pangoFontDescription(['Noto Sans'], 400, 31.333), 'Noto Sans, 31.33px');
    assert.throws(() => pangoFontDescription([], 400, 12), /no font family/);
    assert.throws(() => pangoFontDescription(['Noto Sans'], 400, 0), /bad size/);

    const render = async (text: string, weight: 400 | 700, size: number, dpi?: number) => {
      const font = pangoFontDescription(stack, weight, size);
      const { info } = await sharp({ text: { text, font, rgba: true, ...(dpi ? { dpi } : {}) } })
        .raw()
        .toBuffer({ resolveWithObject: true });
      return info;
    };
    // Noto Sans' capital H is 0.714 em tall: 100 px type gives a ~71 px tall H, whatever the dpi.
    for (const dpi of [undefined, 72, 144]) {
      const h = await render('H', 400, 100, dpi);
      assert.ok(Math.abs(h.height - 71.4) <= 1.5, `H at dpi ${dpi} is ${h.height} px tall`);
    }
    // Bold is wider than regular; Arabic and Hebrew render from their fonts.
    assert.ok((await render('HHHH', 700, 100)).width > (await render('HHHH', 400, 100)).width);
    assert.ok((await render('استمع', 400, 64)).width > 50);
    assert.ok((await render('האזינו', 700, 64)).width > 50);
  });
});
