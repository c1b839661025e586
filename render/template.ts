// The template format. A template is a folder under templates/ holding template.json and one SVG
// design per aspect ratio:
//
//   templates/spotlight/template.json   id, version, slots, copy, variants, motion timeline
//   templates/spotlight/1x1.svg         the design for 1:1 (4x5.svg, 9x16.svg, 16x9.svg likewise)
//
// Slots are named inputs: text (set by pango, wrapped and shrunk to fit a box the variant gives),
// images (`{{photo}}` in the SVG, the href of an <image>), colours (`{{accent}}` anywhere in the
// SVG) and an optional audio track for motion. Top-level SVG groups with an id starting `layer-`
// are layers the motion timeline can animate; text slots are layers too. Everything is validated
// on load, and every error names the template, the file and the field.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { issueLines } from '../core/validation.ts';
import { ASPECT_RATIOS, ratioFileStem, type AspectRatio } from './spec.ts';

const HEX_COLOR = /^#[0-9a-fA-F]{6}$/;
const SLOT_NAME = /^[a-z][a-zA-Z0-9]*$/;
const LANGUAGE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

/** Where a slot's value comes from when the template is filled for an artist in a market. */
export const SLOT_SOURCES = {
  text: ['artist.name', 'artist.genre', 'market.name'],
  image: ['artist.image'],
  audio: ['artist.preview'],
} as const;

const textSlot = z.strictObject({
  type: z.literal('text'),
  /** Taken from the catalog ... */
  source: z.enum(SLOT_SOURCES.text).optional(),
  /** ... or written per language; `{artist}`, `{genre}` and `{market}` are filled in. */
  copy: z.record(z.string().regex(LANGUAGE), z.string().min(1).max(200)).optional(),
});
const imageSlot = z.strictObject({
  type: z.literal('image'),
  source: z.enum(SLOT_SOURCES.image),
});
const colorSlot = z.strictObject({
  type: z.literal('color'),
  default: z.string().regex(HEX_COLOR, 'expected a colour like #1ed760'),
});
const audioSlot = z.strictObject({
  type: z.literal('audio'),
  source: z.enum(SLOT_SOURCES.audio),
  /** Seconds of fade-out at the end of the video. Default 1. */
  fadeOut: z.number().min(0).max(5).default(1),
});
const slotSchema = z.discriminatedUnion('type', [textSlot, imageSlot, colorSlot, audioSlot]);

const box = z
  .tuple([z.number().min(0), z.number().min(0), z.number().positive(), z.number().positive()])
  .describe('[x, y, width, height] in canvas pixels');

const textStyle = z.strictObject({
  box,
  /** Font families in fallback order, each listed in templates/fonts.json. */
  font: z.array(z.string().min(1)).min(1),
  weight: z.union([z.literal(400), z.literal(700)]).default(400),
  /** Largest font size in px; the text is set at this size when it fits. */
  size: z.number().min(6).max(400),
  /** Smallest size it may shrink to; text that does not fit at this size fails QA. */
  minSize: z.number().min(6).max(400),
  /** `#rrggbb`, or the name of a colour slot. */
  color: z.string().min(1),
  /** Start and end follow the text's direction (start is right in Arabic and Hebrew). */
  align: z.enum(['start', 'center', 'end']).default('center'),
  valign: z.enum(['top', 'middle', 'bottom']).default('middle'),
});

const ease = z.enum(['linear', 'in', 'out', 'in-out']).default('out');
const scalarKey = z.strictObject({ t: z.number().min(0), value: z.number(), ease });
/** Opacity eases linearly unless a key says otherwise (a fade, as editors make it). */
const opacityKey = z.strictObject({
  t: z.number().min(0),
  value: z.number().min(0).max(1),
  ease: z.enum(['linear', 'in', 'out', 'in-out']).default('linear'),
});
const positionKey = z.strictObject({
  t: z.number().min(0),
  /** Offset from the layer's designed place, as a fraction of the canvas width / height. */
  x: z.number().min(-2).max(2),
  y: z.number().min(-2).max(2),
  ease,
});
const layerTrack = z.strictObject({
  position: z.array(positionKey).min(2).optional(),
  scale: z
    .array(scalarKey.extend({ value: z.number().min(0.05).max(4) }))
    .min(2)
    .optional(),
  opacity: z.array(opacityKey).min(2).optional(),
});

const motionSchema = z.strictObject({
  /** Seconds. */
  duration: z.number().min(1).max(60),
  fps: z.union([z.literal(24), z.literal(25), z.literal(30), z.literal(60)]).default(30),
  /** Layer (a `layer-*` group of the SVG, or a text slot) -> its keyframes. */
  layers: z.record(z.string().min(1), layerTrack),
});

const variantSchema = z.strictObject({
  width: z.number().int().min(100).max(4096),
  height: z.number().int().min(100).max(4096),
  /** The SVG design, relative to the template folder. Default `<ratio>.svg` (`9x16.svg`). */
  svg: z.string().min(1).optional(),
  /** Image slot -> the size it is drawn at, for the resolution check and pre-scaling. */
  images: z
    .record(
      z.string(),
      z.strictObject({ width: z.number().positive(), height: z.number().positive() }),
    )
    .default({}),
  text: z.record(z.string(), textStyle),
});

/** The template's After Effects version, rendered on a nexrender farm (see render/nexrender.ts). */
const nexrenderSchema = z.strictObject({
  /** URL of the .aep project (`file://` or `http(s)://`), as the nexrender worker fetches it. */
  src: z.string().min(1),
  /** Composition per aspect ratio; motion of a ratio without one renders with ffmpeg. */
  compositions: z.partialRecord(z.enum(ASPECT_RATIOS), z.string().min(1)),
  /** Slot -> After Effects layer. Default: the layer named like the slot. */
  layers: z.record(z.string(), z.string().min(1)).optional(),
  /** Property a colour slot sets. Default `Effects.Fill.Color`. */
  colorProperty: z.string().min(1).optional(),
  /** After Effects output module template. Default `H.264 - Match Render Settings - 15 Mbps`. */
  outputModule: z.string().min(1).optional(),
  /** Extension of what the output module writes (`mp4`, `mov`, ...). Default `mp4`. */
  outputExt: z
    .string()
    .regex(/^[A-Za-z0-9]+$/, 'an extension without the dot, like mp4')
    .optional(),
});

const templateSchema = z.strictObject({
  id: z.string().regex(/^[a-z][a-z0-9-]*$/, 'lowercase letters, digits and dashes'),
  /** Bump when the design changes; it is part of every creative's hash. */
  version: z.number().int().positive(),
  name: z.string().min(1),
  /** A coarse design family the ranker learns from (portrait, graphic, ...). */
  theme: z.string().min(1),
  /** Languages every copy slot is written in; the first is the fallback. */
  languages: z.array(z.string().regex(LANGUAGE)).min(1),
  slots: z.record(
    z.string().regex(SLOT_NAME, 'slot names are camelCase letters and digits'),
    slotSchema,
  ),
  variants: z.partialRecord(z.enum(ASPECT_RATIOS), variantSchema),
  motion: motionSchema,
  nexrender: nexrenderSchema.optional(),
});

export type TemplateJson = z.infer<typeof templateSchema>;
export type TextStyle = z.infer<typeof textStyle>;
export type LayerTrack = z.infer<typeof layerTrack>;
export type Motion = z.infer<typeof motionSchema>;
export type Ease = z.infer<typeof ease>;
export type Slot = z.infer<typeof slotSchema>;

export interface TemplateVariant {
  ratio: AspectRatio;
  width: number;
  height: number;
  svgFile: string;
  svg: string;
  images: Record<string, { width: number; height: number }>;
  text: Record<string, TextStyle>;
  /** Ids of the SVG's top-level `layer-*` groups, in paint order. */
  layers: string[];
}

export interface Template {
  id: string;
  version: number;
  name: string;
  theme: string;
  languages: string[];
  slots: Record<string, Slot>;
  variants: Record<AspectRatio, TemplateVariant>;
  motion: Motion;
  nexrender: TemplateJson['nexrender'];
  dir: string;
  /** Hash of template.json and every SVG, so an edited design never reuses an old render. */
  sourceHash: string;
}

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

/** The root <svg> element's children, in document order: their tag and id. */
export function svgChildren(svg: string): Array<{ tag: string; id: string | null }> {
  const out: Array<{ tag: string; id: string | null }> = [];
  let depth = 0;
  const body = svg.replace(
    /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<\?[\s\S]*?\?>|<!DOCTYPE[^>]*>/g,
    '',
  );
  for (const m of body.matchAll(/<(\/?)([A-Za-z][\w:.-]*)((?:[^>"']|"[^"]*"|'[^']*')*?)(\/?)>/g)) {
    const [, closing, tag, attrs, selfClosing] = m;
    if (closing) {
      depth--;
      continue;
    }
    if (depth === 1) out.push({ tag: tag!, id: /\bid="([^"]*)"/.exec(attrs!)?.[1] ?? null });
    if (!selfClosing) depth++;
  }
  return out;
}

/** Top-level `<g id="layer-...">` groups, in document order. */
function svgLayers(svg: string): string[] {
  return svgChildren(svg)
    .filter((c) => c.tag === 'g' && c.id?.startsWith('layer-'))
    .map((c) => c.id!);
}

/**
 * Motion paints everything outside layers first, then the layers in order: content placed after
 * a layer would be painted below it in the video but above it in the still, and the video would
 * jump at its end. Such content must move before the first layer or into one.
 */
function paintOrderProblem(svg: string): string | null {
  let firstLayer: string | null = null;
  for (const c of svgChildren(svg)) {
    const isLayer = c.tag === 'g' && c.id?.startsWith('layer-');
    if (isLayer) firstLayer ??= c.id;
    else if (firstLayer && !['defs', 'style', 'title', 'desc', 'metadata'].includes(c.tag))
      return `<${c.tag}${c.id ? ` id="${c.id}"` : ''}> comes after <g id="${firstLayer}"> but is in no layer: move it before the first layer or into a layer (motion paints everything outside layers first)`;
  }
  return null;
}

function svgPlaceholders(svg: string): string[] {
  return [...new Set([...svg.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]!))];
}

/** Parses and cross-checks one template folder; every problem is reported at once. */
export function loadTemplate(dir: string): Template {
  const file = path.join(dir, 'template.json');
  let raw: unknown;
  let source: string;
  try {
    source = fs.readFileSync(file, 'utf8');
    raw = JSON.parse(source);
  } catch (err) {
    throw new TemplateError(`template ${file}: cannot read: ${(err as Error).message}`);
  }
  const parsed = templateSchema.safeParse(raw);
  const name = path.basename(dir);
  if (!parsed.success)
    throw new TemplateError(
      `template "${name}" (${file}) is invalid:\n${issueLines(parsed.error).join('\n')}`,
    );
  const t = parsed.data;
  const problems: string[] = [];
  const at = (field: string, message: string) => problems.push(`  ${field}: ${message}`);
  if (t.id !== name) at('id', `"${t.id}" must equal the folder name "${name}"`);

  for (const [slot, def] of Object.entries(t.slots)) {
    if (def.type !== 'text') continue;
    if (!def.source === !def.copy) at(`slots.${slot}`, 'a text slot has either source or copy');
    if (def.copy)
      for (const lang of t.languages)
        if (!def.copy[lang]) at(`slots.${slot}.copy.${lang}`, `missing (languages lists ${lang})`);
  }
  const slotsOf = (type: Slot['type']) =>
    Object.entries(t.slots)
      .filter(([, s]) => s.type === type)
      .map(([n]) => n);
  const textSlots = slotsOf('text');
  const colorSlots = slotsOf('color');

  const hash = createHash('sha256').update(source);
  const variants = {} as Record<AspectRatio, TemplateVariant>;
  for (const ratio of ASPECT_RATIOS) {
    const v = t.variants[ratio];
    const field = `variants.${ratio}`;
    if (!v) {
      at(field, 'missing: every template has a variant per aspect ratio');
      continue;
    }
    const [rw, rh] = ratio.split(':').map(Number) as [number, number];
    if (v.width * rh !== v.height * rw) at(field, `${v.width}x${v.height} is not ${ratio}`);
    const svgFile = path.join(dir, v.svg ?? `${ratioFileStem(ratio)}.svg`);
    if (!fs.existsSync(svgFile)) {
      at(`${field}.svg`, `file not found: ${svgFile}`);
      continue;
    }
    const svg = fs.readFileSync(svgFile, 'utf8');
    hash.update(svg);
    const size = /<svg\b[^>]*\bwidth="(\d+)"[^>]*\bheight="(\d+)"/.exec(svg);
    if (!size || Number(size[1]) !== v.width || Number(size[2]) !== v.height)
      at(`${field}.svg`, `the <svg> element must have width="${v.width}" height="${v.height}"`);
    for (const p of svgPlaceholders(svg)) {
      const slot = t.slots[p];
      if (!slot) at(`${field}.svg`, `{{${p}}} is not a slot`);
      else if (slot.type === 'image' && !v.images[p])
        at(`${field}.images.${p}`, 'missing: the drawn size of an image slot the SVG uses');
      else if (slot.type === 'text' || slot.type === 'audio')
        at(`${field}.svg`, `{{${p}}} is a ${slot.type} slot; text is set by the text boxes`);
    }
    for (const img of Object.keys(v.images))
      if (t.slots[img]?.type !== 'image') at(`${field}.images.${img}`, 'not an image slot');
    for (const s of textSlots)
      if (!v.text[s]) at(`${field}.text.${s}`, 'missing: every text slot needs a box');
    for (const [s, style] of Object.entries(v.text)) {
      const f = `${field}.text.${s}`;
      if (t.slots[s]?.type !== 'text') at(f, 'not a text slot');
      const [x, y, w, h] = style.box;
      if (x + w > v.width || y + h > v.height) at(`${f}.box`, 'reaches outside the canvas');
      if (style.minSize > style.size) at(`${f}.minSize`, `larger than size ${style.size}`);
      if (!HEX_COLOR.test(style.color) && !colorSlots.includes(style.color))
        at(`${f}.color`, `"${style.color}" is neither #rrggbb nor a colour slot`);
    }
    const layers = svgLayers(svg);
    const order = paintOrderProblem(svg);
    if (order) at(`${field}.svg`, order);
    for (const layer of Object.keys(t.motion.layers))
      if (!layers.includes(layer) && !textSlots.includes(layer))
        at(
          `motion.layers.${layer}`,
          `no <g id="${layer}"> in ${path.basename(svgFile)} and no such text slot`,
        );
    variants[ratio] = {
      ratio,
      width: v.width,
      height: v.height,
      svgFile,
      svg,
      images: v.images,
      text: v.text,
      layers,
    };
  }
  for (const [layer, track] of Object.entries(t.motion.layers))
    for (const [prop, keys] of Object.entries(track) as Array<[string, Array<{ t: number }>]>) {
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i]!;
        if (k.t > t.motion.duration)
          at(
            `motion.layers.${layer}.${prop}[${i}].t`,
            `${k.t} is after the end (${t.motion.duration} s)`,
          );
        if (i > 0 && k.t <= keys[i - 1]!.t)
          at(`motion.layers.${layer}.${prop}[${i}].t`, 'keyframe times must increase');
      }
    }
  if (problems.length)
    throw new TemplateError(`template "${t.id}" (${file}) is invalid:\n${problems.join('\n')}`);
  return {
    id: t.id,
    version: t.version,
    name: t.name,
    theme: t.theme,
    languages: t.languages,
    slots: t.slots,
    variants,
    motion: t.motion,
    nexrender: t.nexrender,
    dir,
    sourceHash: hash.digest('hex'),
  };
}

export interface TemplateLibrary {
  templates: Template[];
  get(id: string): Template;
}

/** Every folder under `dir` with a template.json; problems in several templates are reported together. */
export function loadTemplateLibrary(dir: string): TemplateLibrary {
  if (!fs.existsSync(dir)) throw new TemplateError(`templates folder not found: ${dir}`);
  const folders = fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && fs.existsSync(path.join(dir, e.name, 'template.json')))
    .map((e) => e.name)
    .sort();
  if (folders.length === 0) throw new TemplateError(`no templates (*/template.json) in ${dir}`);
  const templates: Template[] = [];
  const errors: string[] = [];
  for (const f of folders) {
    try {
      templates.push(loadTemplate(path.join(dir, f)));
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      errors.push(err.message);
    }
  }
  if (errors.length) throw new TemplateError(errors.join('\n'));
  const byId = new Map(templates.map((t) => [t.id, t]));
  return {
    templates,
    get(id) {
      const t = byId.get(id);
      if (!t)
        throw new TemplateError(`unknown template "${id}" (known: ${[...byId.keys()].join(', ')})`);
      return t;
    },
  };
}

/** The language a template's copy is set in for a market: its own, else the template's first. */
export function copyLanguage(template: Template, language: string): string {
  return template.languages.includes(language) ? language : template.languages[0]!;
}

/** Fills `{artist}`, `{genre}`, `{market}` in a copy line. */
export function fillCopy(line: string, values: Record<string, string>): string {
  return line.replace(/\{(\w+)\}/g, (m, k: string) => values[k] ?? m);
}
