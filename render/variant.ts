// Rendering one aspect-ratio variant of a creative, statically and in motion. Both start from the
// same composed design (filled SVG + fitted texts), so the video's last frame is the still.
import fs from 'node:fs';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import {
  filledSvg,
  fitTexts,
  rasterize,
  textOverlays,
  type ComposeInputs,
  type Raster,
} from './compose.ts';
import { encodeMotion, type EncoderSettings, type FfmpegRun, type PaintItem } from './motion.ts';
import type { Box } from './platform-specs.ts';
import type { StaticFormat } from './spec.ts';
import type { Template, TemplateVariant } from './template.ts';
import type { FittedText } from './text-fit.ts';

/** A variant composed for one creative: what both renderers draw from. */
export interface ComposedVariant {
  template: Template;
  variant: TemplateVariant;
  svg: string;
  texts: Map<string, FittedText>;
  inputs: ComposeInputs;
  /** The whole design without its text (lazy: the static render and QA both use it). */
  background(): Promise<Raster>;
}

export async function composeVariant(
  template: Template,
  variant: TemplateVariant,
  inputs: ComposeInputs,
): Promise<ComposedVariant> {
  const [svg, texts] = await Promise.all([filledSvg(variant, inputs), fitTexts(variant, inputs)]);
  let bg: Promise<Raster> | null = null;
  return {
    template,
    variant,
    svg,
    texts,
    inputs,
    background: () => (bg ??= rasterize(svg, variant)),
  };
}

function finished(c: ComposedVariant, bg: Raster): Sharp {
  return (
    sharp(bg.data, { raw: { width: bg.width, height: bg.height, channels: 4 } })
      .composite(textOverlays(c.texts.values()))
      // Designs are opaque (a transparent corner would turn black in a JPEG anyway); dropping the
      // channel costs far less than flattening against a colour.
      .removeAlpha()
  );
}

/** The still: the design with its texts, as JPEG (quality 90) or PNG. */
export async function renderStatic(c: ComposedVariant, format: StaticFormat): Promise<Buffer> {
  const img = finished(c, await c.background());
  return format === 'png'
    ? img.png({ compressionLevel: 6, adaptiveFiltering: false }).toBuffer()
    : img.jpeg({ quality: 90, optimiseCoding: false }).toBuffer();
}

/** Bounding box of the pixels with any opacity, or null for a fully transparent raster. */
export function opaqueBounds(r: Raster): Box | null {
  const { data, width, height } = r;
  let minX = width;
  let minY = height;
  let maxX = -1;
  let maxY = -1;
  for (let y = 0; y < height; y++) {
    const row = y * width * 4;
    let first = -1;
    for (let x = 0; x < width; x++)
      if (data[row + x * 4 + 3]! > 0) {
        first = x;
        break;
      }
    if (first < 0) continue;
    let last = first;
    for (let x = width - 1; x > first; x--)
      if (data[row + x * 4 + 3]! > 0) {
        last = x;
        break;
      }
    if (y < minY) minY = y;
    maxY = y;
    if (first < minX) minX = first;
    if (last > maxX) maxX = last;
  }
  return maxX < 0 ? null : { x: minX, y: minY, width: maxX - minX + 1, height: maxY - minY + 1 };
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
  const items: PaintItem[] = [];
  for (const [n, g] of groups.entries()) {
    if (!g.background && g.parts.length === 0) continue;
    const svgIds = g.parts.filter((p) => p.kind === 'svg').map((p) => p.id);
    const textIds = g.parts.filter((p) => p.kind === 'text').map((p) => p.id);
    const file = path.join(workDir, `part-${n}.rgba`);
    let raster: Raster;
    if (svgIds.length || g.background) {
      raster = await rasterize(partialSvg(c.svg, variant.layers, svgIds, g.background), variant);
    } else {
      raster = {
        data: Buffer.alloc(variant.width * variant.height * 4),
        width: variant.width,
        height: variant.height,
        channels: 4,
      };
    }
    if (textIds.length) {
      const data = await sharp(raster.data, {
        raw: { width: raster.width, height: raster.height, channels: 4 },
      })
        .composite(textOverlays(textIds.map((id) => c.texts.get(id)!)))
        .raw()
        .toBuffer();
      raster = { ...raster, data };
    }
    if (g.background) {
      items.push({ name: 'background', file, place: await writeRaw(file, raster, null) });
      continue;
    }
    const bounds = opaqueBounds(raster);
    if (!bounds) continue; // nothing visible: a layer hidden in this variant
    // Even sizes keep the 4:2:0 chroma planes aligned with the layer.
    const even = {
      ...bounds,
      width: Math.min(raster.width - bounds.x, bounds.width + (bounds.width % 2)),
      height: Math.min(raster.height - bounds.y, bounds.height + (bounds.height % 2)),
    };
    const place = await writeRaw(file, raster, even);
    items.push({
      name: g.parts.map((p) => p.id).join('+'),
      file,
      place,
      track: g.animated ? tracks[g.parts[0]!.id] : undefined,
    });
  }
  return items;
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
    c.background().then((bg) => finished(c, bg).ensureAlpha().raw().toBuffer()),
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
