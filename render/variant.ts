// Rendering one aspect-ratio variant of a creative, statically and in motion. Both start from the
// same composed design (filled SVG + fitted texts), so the video's last frame is the still.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { filledSvg, fitTexts, rasterize, type ComposeInputs, type Raster } from './compose.ts';
import { blendOver, opaqueBounds } from './blend.ts';
import { encodeMotion, type EncoderSettings, type FfmpegRun, type PaintItem } from './motion.ts';
import type { Box } from './platform-specs.ts';
import type { StaticFormat } from './spec.ts';
import type { Template, TemplateVariant } from './template.ts';
import type { FittedText } from './text-fit.ts';

/** A variant composed for one creative: what both renderers draw from. */
export interface ComposedVariant {
  template: Template;
  variant: TemplateVariant;
  /** The SVG with its photo and colours filled (lazy: statics of most templates never need it). */
  svg(): Promise<string>;
  texts: Map<string, FittedText>;
  inputs: ComposeInputs;
  /** The whole design without its text (lazy: the still, motion's final frame and QA use it). */
  background(): Promise<Raster>;
}

export async function composeVariant(
  template: Template,
  variant: TemplateVariant,
  inputs: ComposeInputs,
): Promise<ComposedVariant> {
  const texts = await fitTexts(variant, inputs);
  let filled: Promise<string> | null = null;
  const svg = () => (filled ??= filledSvg(variant, inputs));
  let bg: Promise<Raster> | null = null;
  const background = async (): Promise<Raster> => rasterize(await svg(), variant);
  return { template, variant, svg, texts, inputs, background: () => (bg ??= background()) };
}

/** Draws fitted texts into a raw RGBA canvas `width` pixels wide, in place. */
function drawTexts(data: Buffer, width: number, texts: Iterable<FittedText>): void {
  for (const t of texts)
    if (t.ink.width > 0 && t.ink.height > 0) blendOver(data, width, t.rgba, t.ink);
}

/** The design with its texts drawn in, as raw RGBA (a copy: the background stays as it is). */
function finishedPixels(c: ComposedVariant, bg: Raster): Buffer {
  const out = Buffer.from(bg.data);
  drawTexts(out, bg.width, c.texts.values());
  return out;
}

/** Copies of the background under each text, to put back after drawing the texts in place. */
function saveUnder(bg: Raster, texts: Iterable<FittedText>): Array<{ ink: Box; rows: Buffer }> {
  const saved = [];
  for (const t of texts) {
    const { ink } = t;
    if (ink.width === 0 || ink.height === 0) continue;
    const rows = Buffer.allocUnsafe(ink.width * ink.height * 4);
    for (let y = 0; y < ink.height; y++) {
      const from = ((ink.y + y) * bg.width + ink.x) * 4;
      bg.data.copy(rows, y * ink.width * 4, from, from + ink.width * 4);
    }
    saved.push({ ink, rows });
  }
  return saved;
}

function restore(bg: Raster, saved: Array<{ ink: Box; rows: Buffer }>): void {
  for (const { ink, rows } of saved.reverse())
    for (let y = 0; y < ink.height; y++)
      rows.copy(
        bg.data,
        ((ink.y + y) * bg.width + ink.x) * 4,
        y * ink.width * 4,
        (y + 1) * ink.width * 4,
      );
}

/**
 * The still: the design with its texts, as JPEG (quality 90) or PNG. The texts are drawn into the
 * cached background in place and the pixels under them put back once encoded: copying the whole
 * canvas per still cost more than everything else in it but the rasterising.
 */
export async function renderStatic(c: ComposedVariant, format: StaticFormat): Promise<Buffer> {
  const { width, height } = c.variant;
  const bg = await c.background();
  const saved = saveUnder(bg, c.texts.values());
  try {
    drawTexts(bg.data, width, c.texts.values());
    const img = sharp(bg.data, { raw: { width, height, channels: 4 } })
      // Designs are opaque (a transparent corner would turn black in a JPEG anyway); dropping the
      // channel costs far less than flattening against a colour.
      .removeAlpha();
    return await (format === 'png'
      ? img.png({ compressionLevel: 6, adaptiveFiltering: false }).toBuffer()
      : img.jpeg({ quality: 90, optimiseCoding: false }).toBuffer());
  } finally {
    restore(bg, saved);
  }
}

function cssHide(ids: readonly string[]): string {
  return ids.length ? `${ids.map((id) => `#${id}`).join(',')}{display:none}` : '';
}

/** The design with only some parts visible: content outside layers, and the listed layers. */
function partialSvg(
  svg: string,
  allLayers: readonly string[],
  visible: readonly string[],
  withBackground: boolean,
): string {
  let css = cssHide(allLayers.filter((l) => !visible.includes(l)));
  if (!withBackground)
    css += `svg>*${allLayers.map((l) => `:not(#${l})`).join('')}:not(defs):not(style){display:none}`;
  return css ? svg.replace(/(<svg\b[^>]*>)/, `$1<style>${css}</style>`) : svg;
}

async function writeRaw(file: string, r: Raster, box: Box | null): Promise<Box> {
  const b = box ?? { x: 0, y: 0, width: r.width, height: r.height };
  if (b.width === r.width && b.height === r.height) {
    await fs.promises.writeFile(file, r.data);
    return b;
  }
  const data = await sharp(r.data, { raw: { width: r.width, height: r.height, channels: 4 } })
    .extract({ left: b.x, top: b.y, width: b.width, height: b.height })
    .raw()
    .toBuffer();
  await fs.promises.writeFile(file, data);
  return b;
}

/**
 * `box` grown to even x, y, width and height (within `canvas` when given): overlay in 4:2:0 draws
 * a layer at even coordinates only, so an odd one would sit a pixel off while animating and jump
 * when the final still takes over; even sizes keep the chroma planes aligned.
 */
function evenPlace(box: Box, canvas?: { width: number; height: number }): Box {
  const x = box.x - (box.x % 2);
  const y = box.y - (box.y % 2);
  let width = box.width + (box.x - x);
  let height = box.height + (box.y - y);
  width += width % 2;
  height += height % 2;
  if (canvas) {
    width = Math.min(width, canvas.width - x);
    height = Math.min(height, canvas.height - y);
  }
  return { x, y, width, height };
}

/**
 * The still parts in paint order: content outside layers first, then the SVG layers, then the
 * text slots. Runs of parts the timeline leaves alone are merged into one still; each animated
 * part is its own.
 */
export async function paintItems(c: ComposedVariant, workDir: string): Promise<PaintItem[]> {
  const { variant, template } = c;
  const tracks = template.motion.layers;
  type Part = { kind: 'svg'; id: string } | { kind: 'text'; id: string };
  const parts: Part[] = [
    ...variant.layers.map((id) => ({ kind: 'svg' as const, id })),
    ...[...c.texts.keys()].map((id) => ({ kind: 'text' as const, id })),
  ];
  // Group: [static run][animated][static run]... The first run always holds the background.
  const groups: Array<{ animated: boolean; parts: Part[]; background: boolean }> = [
    { animated: false, parts: [], background: true },
  ];
  for (const p of parts) {
    const animated = tracks[p.id] !== undefined;
    const last = groups[groups.length - 1]!;
    if (!animated && !last.animated) last.parts.push(p);
    else groups.push({ animated, parts: [p], background: false });
  }
  // Every part rasterises independently: all at once, on the thread pool.
  const made = await Promise.all(
    groups.map(async (g, n): Promise<PaintItem | null> => {
      if (!g.background && g.parts.length === 0) return null;
      const svgIds = g.parts.filter((p) => p.kind === 'svg').map((p) => p.id);
      const texts = g.parts.filter((p) => p.kind === 'text').map((p) => c.texts.get(p.id)!);
      const file = path.join(workDir, `part-${n}.rgba`);
      const name = g.background ? 'background' : g.parts.map((p) => p.id).join('+');
      const track = g.animated ? tracks[g.parts[0]!.id] : undefined;
      if (!g.background && svgIds.length === 0 && texts.length === 1) {
        // A text on its own is already a cropped layer.
        const t = texts[0]!;
        if (t.ink.width === 0 || t.ink.height === 0) return null;
        const place = evenPlace(t.ink);
        const rgba = Buffer.alloc(place.width * place.height * 4);
        drawTexts(rgba, place.width, [
          { ...t, ink: { ...t.ink, x: t.ink.x - place.x, y: t.ink.y - place.y } },
        ]);
        await fs.promises.writeFile(file, rgba);
        return { name, file, place, track };
      }
      const raster: Raster =
        svgIds.length || g.background
          ? await rasterize(
              partialSvg(await c.svg(), variant.layers, svgIds, g.background),
              variant,
            )
          : {
              data: Buffer.alloc(variant.width * variant.height * 4),
              width: variant.width,
              height: variant.height,
              channels: 4,
            };
      drawTexts(raster.data, raster.width, texts);
      if (g.background) return { name, file, place: await writeRaw(file, raster, null) };
      const bounds = opaqueBounds(raster);
      if (!bounds) return null; // nothing visible: a layer hidden in this variant
      return { name, file, place: await writeRaw(file, raster, evenPlace(bounds, raster)), track };
    }),
  );
  return made.filter((i): i is PaintItem => i !== null);
}

export interface MotionOptions {
  encoder: EncoderSettings;
  workDir: string;
  out: string;
  audio?: { file: string; fadeOut: number } | null;
  /** Seconds; default the template's. */
  duration?: number;
  run?: FfmpegRun;
}

export async function renderMotion(c: ComposedVariant, opts: MotionOptions): Promise<void> {
  // ffmpeg runs in the work directory: every path it is given must not depend on ours.
  const workDir = path.resolve(opts.workDir);
  await fs.promises.mkdir(workDir, { recursive: true });
  const [items, still] = await Promise.all([
    paintItems(c, workDir),
    c.background().then((bg) => finishedPixels(c, bg)),
  ]);
  const finalStill = path.join(workDir, 'final.rgba');
  await fs.promises.writeFile(finalStill, still);
  await encodeMotion(
    {
      items,
      finalStill,
      canvas: { width: c.variant.width, height: c.variant.height },
      motion: { fps: c.template.motion.fps, duration: opts.duration ?? c.template.motion.duration },
      audio: opts.audio ? { ...opts.audio, file: path.resolve(opts.audio.file) } : null,
      encoder: opts.encoder,
      workDir,
      out: path.resolve(opts.out),
    },
    opts.run,
  );
}
