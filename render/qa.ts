// Quality checks a rendered asset must pass before it may be deployed. The renderer describes what
// it drew (where each text ended up, at what size, which glyphs no font had, how far each image was
// scaled, the encoded file's properties, and the creative's pixels without its text); these checks
// turn that into findings a user can act on ("slot headline: ... U+4F60 你 ...") instead of an ad
// rejected at upload, or accepted with its call to action under TikTok's like button.
//
// Everything here is synchronous and pure apart from reading the given pixels.
import {
  PLATFORM_SPECS,
  PLATFORMS,
  acceptsRatio,
  safeArea,
  type Box,
  type Platform,
} from './platform-specs.ts';
import type { AspectRatio, CreativeKind } from './spec.ts';

export interface TextPlacement {
  slot: string;
  text: string;
  /** The slot's box from the template, canvas px. */
  box: Box;
  /** Where the fitted text actually is, canvas px. */
  ink: Box;
  fontSizePx: number;
  minFontSizePx: number;
  bold: boolean;
  /** False: the text could not fit even at the minimum size. */
  fits: boolean;
  /** `#rrggbb`. */
  color: string;
  fontFamilies: string[];
  /** From `missingCodepoints` in fonts.ts. */
  missingCodepoints: number[];
}

export interface ImagePlacement {
  slot: string;
  sourceWidth: number;
  sourceHeight: number;
  drawnWidth: number;
  drawnHeight: number;
}

export interface QaSubject {
  ratio: AspectRatio;
  kind: CreativeKind;
  format: 'jpeg' | 'png' | 'mp4';
  width: number;
  height: number;
  bytes: number;
  durationSeconds?: number;
  /** Average bits per second (motion). */
  bitrate?: number;
  /** As ffprobe names it (`h264`). */
  videoCodec?: string;
  /** As ffprobe names it (`yuv420p`). */
  pixelFormat?: string;
  texts: TextPlacement[];
  images: ImagePlacement[];
  /**
   * The creative without its text, raw pixels (any size: ink boxes are scaled to it). Without it
   * contrast is not measured.
   */
  background?: { data: Buffer; width: number; height: number; channels: 3 | 4 };
}

export type QaCheck =
  | 'text-overflow'
  | 'missing-glyphs'
  | 'text-contrast'
  | 'safe-zone'
  | 'image-resolution'
  | 'file-size'
  | 'duration'
  /** Container, codec, pixel format and bitrate of the file (for statics: the image format). */
  | 'video-format'
  | 'dimensions';

export interface QaFinding {
  check: QaCheck;
  /** The platform whose limit is broken; null: a defect on every platform. */
  platform: Platform | null;
  slot?: string;
  /** Human readable; names the slot, the measured value and the limit. */
  message: string;
}

export interface QaReport {
  /** True only when there is no finding at all. */
  passed: boolean;
  findings: QaFinding[];
  /**
   * Deployable to that platform: it was asked for, places this ratio for this kind, and no finding
   * names it or every platform. Platforms not asked for are false.
   */
  platforms: Record<Platform, boolean>;
}

/** Slack for ink and safe-area edges: pango's anti-aliased fringe may reach one pixel further. */
export const EDGE_TOLERANCE_PX = 1;
/** A source image may be drawn at most this much larger than it is before it looks pixelated. */
export const MAX_UPSCALE = 1.1;
/** Width / height may differ from the named aspect ratio by this fraction (Meta's Stories figure). */
export const RATIO_TOLERANCE = 0.01;
/** WCAG 2.x AA minimum contrast for normal and for large text. */
export const MIN_CONTRAST = { normal: 4.5, large: 3 } as const;
/** WCAG large text: 18 pt (24 px) or 14 pt bold (18.66 px), at 96 px per inch. */
export const LARGE_TEXT_PX = { regular: 24, bold: 18.66 } as const;
/**
 * Background pixels sampled per text at most: a stride is chosen to stay under it, so a 1000x300
 * ink box costs ~4,000 luminance look-ups and a sort (well under a millisecond).
 */
export const CONTRAST_SAMPLES = 4096;
/** Which share of the sampled background may be worse than the required contrast (see below). */
export const CONTRAST_PERCENTILE = 0.05;

export function checkCreative(subject: QaSubject, platforms: readonly Platform[]): QaReport {
  const findings: QaFinding[] = [];
  const add = (check: QaCheck, platform: Platform | null, message: string, slot?: string) =>
    findings.push(
      slot === undefined ? { check, platform, message } : { check, platform, slot, message },
    );

  const { ratio, kind } = subject;
  const asked = [...new Set(platforms)];
  const placed = asked.filter((p) => acceptsRatio(p, kind, ratio));
  if (placed.length === 0) {
    const accepted = asked.map((p) => `${p} takes ${PLATFORM_SPECS[p].ratios[kind].join(', ')}`);
    add(
      'dimensions',
      null,
      asked.length === 0
        ? 'no platform to check the creative against'
        : `no requested platform places ${ratio} ${kind} creatives (${accepted.join('; ')})`,
    );
  }

  checkTexts(subject, placed, add);
  checkImages(subject, add);
  checkFile(subject, placed, add);

  const report: Record<Platform, boolean> = Object.fromEntries(
    PLATFORMS.map((p) => [
      p,
      placed.includes(p) && !findings.some((f) => f.platform === null || f.platform === p),
    ]),
  ) as Record<Platform, boolean>;
  return { passed: findings.length === 0, findings, platforms: report };
}

type Add = (check: QaCheck, platform: Platform | null, message: string, slot?: string) => void;

function checkTexts(subject: QaSubject, placed: readonly Platform[], add: Add): void {
  for (const t of subject.texts) {
    const slot = t.slot;
    const hasInk = t.ink.width > 0 && t.ink.height > 0;

    if (!t.fits) {
      add(
        'text-overflow',
        null,
        `slot ${slot}: the text does not fit its ${fmtSize(t.box)} box even at the minimum size ${t.minFontSizePx} px`,
        slot,
      );
    } else if (t.fontSizePx < t.minFontSizePx) {
      add(
        'text-overflow',
        null,
        `slot ${slot}: the text is set at ${round(t.fontSizePx)} px, below the minimum ${t.minFontSizePx} px`,
        slot,
      );
    }
    if (hasInk) {
      const out = overhang(t.ink, t.box);
      if (out) {
        add(
          'text-overflow',
          null,
          `slot ${slot}: the text (${fmtBox(t.ink)}) runs out of its box (${fmtBox(t.box)}) ${out}`,
          slot,
        );
      }
    }

    if (t.missingCodepoints.length > 0) {
      const list = t.missingCodepoints.map(fmtCodepoint).join(', ');
      add(
        'missing-glyphs',
        null,
        `slot ${slot}: no font of ${t.fontFamilies.join(', ')} has a glyph for ${list}`,
        slot,
      );
    }

    if (hasInk && subject.background) {
      const large = t.fontSizePx >= (t.bold ? LARGE_TEXT_PX.bold : LARGE_TEXT_PX.regular);
      const required = large ? MIN_CONTRAST.large : MIN_CONTRAST.normal;
      const measured = backgroundContrast(subject, t.ink, t.color);
      if (measured !== null && measured < required) {
        add(
          'text-contrast',
          null,
          `slot ${slot}: ${t.color} text has contrast ${measured.toFixed(2)}:1 against the ` +
            `background behind it (the worst ${CONTRAST_PERCENTILE * 100}% of it), below the ` +
            `${required}:1 WCAG AA requires for ${large ? 'large' : 'normal'} text ` +
            `(${round(t.fontSizePx)} px${t.bold ? ' bold' : ''})`,
          slot,
        );
      }
    }

    if (hasInk) {
      for (const p of placed) {
        const area = safeArea(p, subject.ratio, subject.width, subject.height);
        const out = overhang(t.ink, area);
        if (out) {
          add(
            'safe-zone',
            p,
            `slot ${slot}: the text (${fmtBox(t.ink)}) is under ${p}'s interface in ${subject.ratio}: ` +
              `it leaves the safe area (${fmtBox(area)}) ${out}`,
            slot,
          );
        }
      }
    }
  }
}

function checkImages(subject: QaSubject, add: Add): void {
  for (const im of subject.images) {
    if (im.sourceWidth <= 0 || im.sourceHeight <= 0) {
      add('image-resolution', null, `slot ${im.slot}: the source image has no pixels`, im.slot);
      continue;
    }
    const scale = Math.max(im.drawnWidth / im.sourceWidth, im.drawnHeight / im.sourceHeight);
    if (scale > MAX_UPSCALE + 1e-9) {
      add(
        'image-resolution',
        null,
        `slot ${im.slot}: the ${im.sourceWidth}×${im.sourceHeight} source is drawn at ` +
          `${round(im.drawnWidth)}×${round(im.drawnHeight)} (upscaled ${scale.toFixed(2)}×, more ` +
          `than the ${MAX_UPSCALE}× allowed): it will look pixelated; use a larger image`,
        im.slot,
      );
    }
  }
}

function checkFile(subject: QaSubject, placed: readonly Platform[], add: Add): void {
  const { ratio, kind, width, height, bytes } = subject;
  const [rw, rh] = ratio.split(':').map(Number) as [number, number];
  const actual = width / height;
  const expected = rw / rh;
  if (!(width > 0 && height > 0) || Math.abs(actual / expected - 1) > RATIO_TOLERANCE) {
    add(
      'dimensions',
      null,
      `${width}×${height} is not ${ratio} (ratio ${round(actual, 4)}, expected ${round(expected, 4)} ±${RATIO_TOLERANCE * 100}%)`,
    );
  }
  if (!(bytes > 0)) add('file-size', null, `the file is empty (${bytes} bytes)`);

  if (kind === 'static') {
    if (subject.format === 'mp4') add('video-format', null, 'a static creative is encoded as mp4');
    for (const p of placed) {
      const lim = PLATFORM_SPECS[p].image;
      if (width < lim.minWidth || height < lim.minHeight) {
        add(
          'dimensions',
          p,
          `${width}×${height} is below ${p}'s minimum image size ${lim.minWidth}×${lim.minHeight}`,
        );
      }
      if (bytes > lim.maxBytes) {
        add(
          'file-size',
          p,
          `${fmtBytes(bytes)} is over ${p}'s image limit of ${fmtBytes(lim.maxBytes)}`,
        );
      }
      if (subject.format !== 'mp4' && !lim.formats.includes(subject.format)) {
        add(
          'video-format',
          p,
          `${p} does not take ${subject.format} images (${lim.formats.join(', ')})`,
        );
      }
    }
    return;
  }

  // Motion. Missing probe data fails: an asset nobody measured must not reach a platform.
  if (subject.format !== 'mp4') {
    add('video-format', null, `a motion creative is encoded as ${subject.format}, not mp4`);
  }
  const codec = normaliseCodec(subject.videoCodec);
  if (subject.durationSeconds === undefined) add('duration', null, 'the video duration is unknown');
  if (codec === undefined) add('video-format', null, 'the video codec is unknown');
  if (subject.pixelFormat === undefined) add('video-format', null, 'the pixel format is unknown');
  if (subject.bitrate === undefined) add('video-format', null, 'the video bitrate is unknown');

  for (const p of placed) {
    const lim = PLATFORM_SPECS[p].video;
    const min = lim.minResolution[ratio];
    if (min && (width < min.width || height < min.height)) {
      add(
        'dimensions',
        p,
        `${width}×${height} is below ${p}'s minimum ${ratio} video resolution ${min.width}×${min.height}`,
      );
    }
    if (bytes > lim.maxBytes) {
      add(
        'file-size',
        p,
        `${fmtBytes(bytes)} is over ${p}'s video limit of ${fmtBytes(lim.maxBytes)}`,
      );
    }
    const d = subject.durationSeconds;
    if (d !== undefined && (d < lim.minDurationSeconds || d > lim.maxDurationSeconds)) {
      add(
        'duration',
        p,
        `${round(d, 2)} s is outside ${p}'s ${lim.minDurationSeconds}–${lim.maxDurationSeconds} s`,
      );
    }
    if (codec !== undefined && codec !== lim.codec) {
      add('video-format', p, `video codec ${subject.videoCodec} is not ${lim.codec} (${p})`);
    }
    if (subject.pixelFormat !== undefined && subject.pixelFormat !== lim.pixelFormat) {
      add(
        'video-format',
        p,
        `pixel format ${subject.pixelFormat} is not ${lim.pixelFormat} (${p})`,
      );
    }
    const b = subject.bitrate;
    if (b !== undefined && (b < lim.minBitrate || b > lim.maxBitrate)) {
      add(
        'video-format',
        p,
        `bitrate ${fmtBitrate(b)} is outside ${p}'s ${fmtBitrate(lim.minBitrate)}–${fmtBitrate(lim.maxBitrate)}`,
      );
    }
  }
}

/** ffprobe says `h264`; MP4 sample entries say `avc1`. */
function normaliseCodec(codec: string | undefined): string | undefined {
  if (codec === undefined) return undefined;
  const c = codec.toLowerCase();
  return c === 'avc1' || c === 'avc' ? 'h264' : c;
}

// --- contrast -----------------------------------------------------------------------------------

type Rgb = readonly [number, number, number];

// sRGB 8-bit channel -> linear light, as WCAG 2.x defines relative luminance (WCAG 2.0 printed the
// threshold as 0.03928; no 8-bit value lies between the two, so the results are identical).
const LINEAR = Float64Array.from({ length: 256 }, (_, i) => {
  const c = i / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
});

function luminance(r: number, g: number, b: number): number {
  return 0.2126 * LINEAR[r]! + 0.7152 * LINEAR[g]! + 0.0722 * LINEAR[b]!;
}

function parseColor(c: string | Rgb): Rgb {
  if (typeof c !== 'string') {
    if (c.every((v) => Number.isInteger(v) && v >= 0 && v <= 255)) return c;
    throw new Error(`not an RGB colour: [${c.join(', ')}]`);
  }
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(c);
  if (!m) throw new Error(`not a colour: "${c}" (expected #rrggbb)`);
  const hex = m[1]!.length === 3 ? [...m[1]!].map((d) => d + d).join('') : m[1]!;
  return [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16)) as unknown as Rgb;
}

function ratioOf(l1: number, l2: number): number {
  return l1 > l2 ? (l1 + 0.05) / (l2 + 0.05) : (l2 + 0.05) / (l1 + 0.05);
}

/** WCAG 2.x contrast ratio of two colours (`#rrggbb`, `#rgb` or [r, g, b]): 1 to 21. */
export function contrastRatio(a: string | Rgb, b: string | Rgb): number {
  return ratioOf(luminance(...parseColor(a)), luminance(...parseColor(b)));
}

/**
 * Contrast of `color` against the background under `ink`, or null when the box misses the image.
 *
 * Robust measure: the contrast is computed per background pixel (not against the mean colour: white
 * text over black-and-white stripes averages to a passing grey) and the 5th-percentile worst value
 * is taken. The minimum would fail a creative for a single stray pixel, a JPEG ringing artefact or
 * a thin line under the text; but when 5% of the area behind the text is too close in luminance,
 * that is a patch (~110×110 px of a 1000×250 box) larger than a letter, so some glyphs really are
 * hard to read. Pixels are sampled on a grid with a stride that keeps at most CONTRAST_SAMPLES of
 * them, so the cost does not grow with the box.
 */
function backgroundContrast(subject: QaSubject, ink: Box, color: string): number | null {
  const bg = subject.background!;
  const text = luminance(...parseColor(color));
  // The background may be a scaled-down copy of the canvas.
  const sx = bg.width / subject.width;
  const sy = bg.height / subject.height;
  const x0 = clamp(Math.floor(ink.x * sx), 0, bg.width);
  const x1 = clamp(Math.ceil((ink.x + ink.width) * sx), 0, bg.width);
  const y0 = clamp(Math.floor(ink.y * sy), 0, bg.height);
  const y1 = clamp(Math.ceil((ink.y + ink.height) * sy), 0, bg.height);
  const area = (x1 - x0) * (y1 - y0);
  if (area <= 0) return null;
  const stride = Math.max(1, Math.ceil(Math.sqrt(area / CONTRAST_SAMPLES)));
  const ch = bg.channels;
  const data = bg.data;
  const samples = new Float64Array(Math.ceil((x1 - x0) / stride) * Math.ceil((y1 - y0) / stride));
  let n = 0;
  for (let cy = y0; cy < y1; cy += stride) {
    for (let cx = x0; cx < x1; cx += stride) {
      // One pixel per stride x stride cell, at a hashed (deterministic) spot in it: a fixed grid
      // aliases with regular patterns (stripes, dot screens) and could see only one of their colours.
      let h = Math.imul(cx, 0x9e3779b1) ^ Math.imul(cy, 0x85ebca77);
      h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
      const x = Math.min(x1 - 1, cx + (h % stride));
      const y = Math.min(y1 - 1, cy + ((h >>> 16) % stride));
      const i = (y * bg.width + x) * ch;
      let r = data[i]!;
      let g = data[i + 1]!;
      let b = data[i + 2]!;
      if (ch === 4 && data[i + 3]! < 255) {
        // A transparent background shows the page behind the ad; assume a white (light mode) feed.
        const a = data[i + 3]! / 255;
        r = Math.round(r * a + 255 * (1 - a));
        g = Math.round(g * a + 255 * (1 - a));
        b = Math.round(b * a + 255 * (1 - a));
      }
      samples[n++] = ratioOf(luminance(r, g, b), text);
    }
  }
  if (n === 0) return null;
  const sorted = samples.subarray(0, n).sort();
  return sorted[Math.floor(CONTRAST_PERCENTILE * (n - 1))]!;
}

// --- formatting ---------------------------------------------------------------------------------

/** How far `inner` leaves `outer` on each side, beyond the tolerance; '' when it does not. */
function overhang(inner: Box, outer: Box): string {
  const sides: [string, number][] = [
    ['top', outer.y - inner.y],
    ['right', inner.x + inner.width - (outer.x + outer.width)],
    ['bottom', inner.y + inner.height - (outer.y + outer.height)],
    ['left', outer.x - inner.x],
  ];
  return sides
    .filter(([, d]) => d > EDGE_TOLERANCE_PX)
    .map(([side, d]) => `by ${round(d)} px at the ${side}`)
    .join(', ');
}

function fmtBox(b: Box): string {
  return `x ${round(b.x)}–${round(b.x + b.width)}, y ${round(b.y)}–${round(b.y + b.height)}`;
}

function fmtSize(b: Box): string {
  return `${round(b.width)}×${round(b.height)}`;
}

function fmtCodepoint(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')} ${String.fromCodePoint(cp)}`;
}

function fmtBytes(n: number): string {
  return n >= 1e9 ? `${round(n / 1e9, 2)} GB` : `${round(n / 1e6, 2)} MB`;
}

function fmtBitrate(bps: number): string {
  return bps >= 1e6 ? `${round(bps / 1e6, 2)} Mbps` : `${round(bps / 1e3)} kbps`;
}

function round(v: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
