// Composing one variant of a creative: the SVG design with its image and colour slots filled,
// rasterised by librsvg (whole, or one `layer-*` group at a time for motion), and each text slot
// fitted by pango. Both the static and the motion renderer start from this.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import sharp, { type Metadata } from 'sharp';
import { hashString } from '../core/random.ts';
import { escapeXml } from '../core/xml.ts';
import type { TextDirection } from './spec.ts';
import type { Template, TemplateVariant, TextStyle } from './template.ts';
import { fitText, type FittedText } from './text-fit.ts';

/** A source image, read once per creative. */
export interface SourceImage {
  file: string;
  bytes: Buffer;
  width: number;
  height: number;
  sha256: string;
}

/** A 1080 px gradient whose colours derive from `seed`: the photo of an artist without one. */
export function generatedImage(seed: string): Buffer {
  const hue = hashString(seed) % 360;
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="1080" height="1080"><defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="hsl(${hue},60%,30%)"/><stop offset="1" stop-color="hsl(${(hue + 70) % 360},70%,60%)"/></linearGradient></defs><rect width="1080" height="1080" fill="url(#g)"/></svg>`,
  );
}

export class CreativeInputError extends Error {
  override name = 'CreativeInputError';
}

/** Bytes of an image reference: a file path, an http(s) URL, or `generated:<seed>`. */
async function imageBytes(ref: string, slot: string): Promise<Buffer> {
  if (ref.startsWith('generated:')) return generatedImage(ref.slice('generated:'.length));
  try {
    if (/^https?:\/\//.test(ref)) {
      const res = await fetch(ref, { signal: AbortSignal.timeout(30_000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return Buffer.from(await res.arrayBuffer());
    }
    return await fs.promises.readFile(ref);
  } catch (err) {
    throw new CreativeInputError(
      `image slot ${slot}: cannot read ${ref}: ${(err as Error).message}`,
    );
  }
}

export async function readSourceImage(file: string, slot: string): Promise<SourceImage> {
  const bytes = await imageBytes(file, slot);
  let meta: Metadata;
  try {
    meta = await sharp(bytes).metadata();
  } catch (err) {
    throw new CreativeInputError(
      `image slot ${slot}: ${file} is not an image: ${(err as Error).message}`,
    );
  }
  if (!meta.width || !meta.height)
    throw new CreativeInputError(`image slot ${slot}: ${file} has no size`);
  return {
    file,
    bytes,
    width: meta.width,
    height: meta.height,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}

/** Values for every slot of a template, resolved for one creative. */
export interface ComposeInputs {
  text: Record<string, string>;
  images: Record<string, SourceImage>;
  colors: Record<string, string>;
  direction: TextDirection;
}

/** Encoded images by source hash and drawn size: the ratios of a creative often share one. */
const hrefCache = new Map<string, Promise<string>>();
const HREF_CACHE_LIMIT = 64;

/**
 * The image cropped to cover its drawn size and encoded as a data URI, so librsvg decodes a
 * small JPEG (or PNG when it has transparency) instead of the full source at every rasterisation.
 * A JPEG that already has the drawn size is used as it is.
 */
function imageHref(img: SourceImage, width: number, height: number): Promise<string> {
  const w = Math.round(width);
  const h = Math.round(height);
  const key = `${img.sha256}:${w}x${h}`;
  let href = hrefCache.get(key);
  if (!href) {
    href = (async () => {
      const meta = await sharp(img.bytes).metadata();
      if (meta.format === 'jpeg' && meta.width === w && meta.height === h && !meta.orientation)
        return `data:image/jpeg;base64,${img.bytes.toString('base64')}`;
      const pipeline = sharp(img.bytes)
        .rotate()
        .resize(w, h, { fit: 'cover', position: 'attention' });
      const out = meta.hasAlpha
        ? await pipeline.png({ compressionLevel: 1 }).toBuffer()
        : await pipeline.jpeg({ quality: 92 }).toBuffer();
      return `data:image/${meta.hasAlpha ? 'png' : 'jpeg'};base64,${out.toString('base64')}`;
    })();
    if (hrefCache.size >= HREF_CACHE_LIMIT) hrefCache.delete(hrefCache.keys().next().value!);
    hrefCache.set(key, href);
    href.catch(() => hrefCache.delete(key));
  }
  return href;
}

/** The variant's SVG with its image and colour placeholders filled. */
export async function filledSvg(variant: TemplateVariant, inputs: ComposeInputs): Promise<string> {
  const values: Record<string, string> = { ...inputs.colors };
  for (const [slot, size] of Object.entries(variant.images)) {
    const img = inputs.images[slot];
    if (!img) throw new Error(`image slot ${slot} has no image`);
    values[slot] = await imageHref(img, size.width, size.height);
  }
  return variant.svg.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`slot {{${name}}} has no value`);
    return escapeXml(v);
  });
}

export interface Raster {
  data: Buffer;
  width: number;
  height: number;
  channels: 4;
}

export async function rasterize(svg: string, variant: TemplateVariant): Promise<Raster> {
  // The <svg> element's width and height (checked on load) give the size at 72 dpi.
  const { data, info } = await sharp(Buffer.from(svg), { density: 72 })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.width !== variant.width || info.height !== variant.height)
    throw new Error(
      `rasterised ${info.width}x${info.height}, expected ${variant.width}x${variant.height}`,
    );
  return { data, width: info.width, height: info.height, channels: 4 };
}

export function resolveColor(style: TextStyle, colors: Record<string, string>): string {
  return style.color.startsWith('#') ? style.color : (colors[style.color] ?? '#ffffff');
}

/** Every text slot of the variant, fitted. */
export async function fitTexts(
  variant: TemplateVariant,
  inputs: ComposeInputs,
): Promise<Map<string, FittedText>> {
  const entries = await Promise.all(
    Object.entries(variant.text).map(async ([slot, style]) => {
      const text = inputs.text[slot];
      if (text === undefined) throw new Error(`text slot ${slot} has no text`);
      const fitted = await fitText(
        text,
        style,
        resolveColor(style, inputs.colors),
        inputs.direction,
      );
      return [slot, fitted] as const;
    }),
  );
  return new Map(entries);
}

/** Colour slots filled from the spec, else the template's defaults. */
export function colorValues(
  template: Template,
  given: Record<string, string>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, slot] of Object.entries(template.slots))
    if (slot.type === 'color') out[name] = given[name] ?? slot.default;
  return out;
}
