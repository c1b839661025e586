// The fonts manifest (templates/fonts.json): every family a template may name, with one file per
// weight, all in the manifest's own folder (`dir`, templates/fonts/: the Noto fonts adloop ships,
// under the SIL Open Font License in OFL.txt beside them). Pango finds fonts through fontconfig by
// family name, and silently falls back to whatever else is installed when a family is missing;
// that is how a preview and a render come to differ. So the folder carries its own fontconfig file
// (fonts.conf) that sees only these files, the renderer points FONTCONFIG_FILE at it before it sets
// any text (useManifestFonts), loading the manifest fails loudly when a file is absent, its hash
// goes into every creative's hash (a font upgrade re-renders), and QA checks glyph coverage
// against exactly these files.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { openSync } from 'fontkit';
import type { Font } from 'fontkit';
import { z } from 'zod';
import { issueLines, readJsonFile } from '../core/validation.ts';

export const FONT_WEIGHTS = [400, 700] as const;
export type FontWeight = (typeof FONT_WEIGHTS)[number];

/** The fontconfig file every manifest folder carries. */
export const FONTCONFIG_NAME = 'fonts.conf';

const fileName = z
  .string()
  .min(1)
  .refine((f) => path.basename(f) === f, 'expected a file name without a directory')
  .refine((f) => /\.(ttf|otf)$/i.test(f), 'expected a .ttf or .otf file');

const manifestSchema = z.strictObject({
  /** The folder holding the font files and fonts.conf, relative to the manifest. */
  dir: z
    .string()
    .min(1)
    .refine((d) => !path.isAbsolute(d), 'expected a folder relative to the manifest'),
  families: z
    .array(
      z.strictObject({
        // Commas separate families in a pango font description, so a name cannot hold one.
        name: z
          .string()
          .min(1)
          .regex(/^[^,]+$/, 'a family name cannot contain a comma'),
        files: z.strictObject({ '400': fileName, '700': fileName }),
      }),
    )
    .min(1)
    .superRefine((families, ctx) => {
      const seen = new Set<string>();
      families.forEach((f, i) => {
        if (seen.has(f.name)) {
          ctx.addIssue({
            code: 'custom',
            path: [i, 'name'],
            message: `family "${f.name}" is listed twice`,
          });
        }
        seen.add(f.name);
      });
    }),
});

export interface FontFile {
  /** File name as listed in the manifest (`NotoSans-Regular.ttf`). */
  file: string;
  /** Where it is. */
  path: string;
  bytes: number;
}

export interface FontFamily {
  name: string;
  files: Record<FontWeight, FontFile>;
}

export interface FontManifest {
  /** The manifest file it was loaded from. */
  file: string;
  /** The folder of the font files. */
  dir: string;
  /** The folder's fontconfig file, which sees exactly these fonts. */
  fontconfig: string;
  families: FontFamily[];
  /**
   * sha256 over family names, file names and file sizes: part of every creative's hash, so
   * upgrading a font renders creatives anew.
   */
  hash: string;
  /** The family's file for a weight; throws for a family the manifest does not list. */
  path(family: string, weight: FontWeight): string;
}

/**
 * Loads and checks a fonts manifest, each file in its `dir`. Throws naming the field when the
 * manifest is invalid, and naming family, weight and file when a file is missing.
 */
export function loadFontManifest(file: string): FontManifest {
  const parsed = manifestSchema.safeParse(readJsonFile(file, 'font manifest'));
  if (!parsed.success) {
    throw new Error(`font manifest ${file} is invalid:\n${issueLines(parsed.error).join('\n')}`);
  }
  const dir = path.resolve(path.dirname(file), parsed.data.dir);
  const fontconfig = path.join(dir, FONTCONFIG_NAME);
  if (!fs.existsSync(fontconfig)) {
    throw new Error(
      `font manifest ${file}: ${fontconfig} is missing; the font folder needs a fontconfig file ` +
        `that lists it (copy templates/fonts/${FONTCONFIG_NAME})`,
    );
  }
  const families: FontFamily[] = parsed.data.families.map((f) => {
    const resolve = (weight: FontWeight): FontFile => {
      const name = f.files[weight];
      const found = path.join(dir, name);
      let bytes: number;
      try {
        bytes = fs.statSync(found).size;
      } catch {
        throw new Error(
          `font "${f.name}" weight ${weight}: file ${name} not found in ${dir} (listed in ${file})`,
        );
      }
      return { file: name, path: found, bytes };
    };
    return { name: f.name, files: { 400: resolve(400), 700: resolve(700) } };
  });

  const h = createHash('sha256');
  for (const f of families) {
    h.update(`${f.name}\n`);
    for (const w of FONT_WEIGHTS) h.update(`${w}\t${f.files[w].file}\t${f.files[w].bytes}\n`);
  }
  const byName = new Map(families.map((f) => [f.name, f]));
  return {
    file,
    dir,
    fontconfig,
    families,
    hash: h.digest('hex'),
    path(family, weight) {
      const f = byName.get(family);
      if (!f) {
        const known = [...byName.keys()].join(', ');
        throw new Error(`font "${family}" is not in the font manifest ${file} (listed: ${known})`);
      }
      return f.files[weight].path;
    },
  };
}

let activeFontconfig: string | null = null;

/**
 * Makes pango (sharp's text and SVG text) see exactly the manifest's fonts, through its folder's
 * fontconfig file. Fontconfig reads FONTCONFIG_FILE once, when a process first sets text, so this
 * runs before any text is set; a second manifest with another folder in the same process would
 * not take effect, and is refused rather than silently rendering in the first one's fonts.
 */
export function useManifestFonts(manifest: FontManifest): void {
  if (activeFontconfig === manifest.fontconfig) return;
  if (activeFontconfig !== null) {
    throw new Error(
      `fonts from ${activeFontconfig} are already in use in this process; ` +
        `${manifest.file} needs a process of its own`,
    );
  }
  process.env.FONTCONFIG_FILE = manifest.fontconfig;
  activeFontconfig = manifest.fontconfig;
}

// Parsed fonts by path: opening Noto Sans parses its cmap, which is worth doing once per process.
const openFonts = new Map<string, Font>();

function openFont(file: string): Font {
  let font = openFonts.get(file);
  if (!font) {
    const opened = openSync(file);
    if (!('hasGlyphForCodePoint' in opened)) {
      throw new Error(`${file} is a font collection; list a single-font file in the manifest`);
    }
    font = opened;
    openFonts.set(file, font);
  }
  return font;
}

/**
 * Characters that draw nothing, so no font needs a glyph for them: whitespace, controls, format
 * characters (bidi marks U+200E/U+200F/U+061C, embeddings U+202A–U+202E, isolates U+2066–U+2069,
 * ZWNJ/ZWJ U+200C/U+200D, soft hyphen...) and variation selectors (U+FE00–U+FE0F,
 * U+E0100–U+E01EF), which only choose among a base character's glyphs.
 */
const INVISIBLE = /^[\s\p{Cc}\p{Cf}\uFE00-\uFE0F\u{E0100}-\u{E01EF}]$/u;

/**
 * Code points of `text` that no font of the stack `families` (at `weight`) has a glyph for, each
 * once, in order of first appearance. Empty means pango can set the text with the manifest's fonts
 * alone; anything else would come out as a tofu box or in an unpinned fallback font.
 */
export function missingCodepoints(
  manifest: FontManifest,
  families: readonly string[],
  weight: FontWeight,
  text: string,
): number[] {
  const fonts = families.map((f) => openFont(manifest.path(f, weight)));
  const missing: number[] = [];
  const checked = new Set<number>();
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (checked.has(cp)) continue;
    checked.add(cp);
    if (INVISIBLE.test(ch)) continue;
    if (!fonts.some((font) => font.hasGlyphForCodePoint(cp))) missing.push(cp);
  }
  return missing;
}

/**
 * A pango font description for sharp's text input: `Noto Sans, Noto Sans Arabic, Bold 48px`.
 * The family list ends with a comma so that a family whose name ends in a style word is not read
 * as that style; the size carries `px`, an absolute size that does not depend on the `dpi` option
 * (a bare number is points, scaled by dpi: at sharp's default 72 dpi the two agree).
 */
export function pangoFontDescription(
  families: readonly string[],
  weight: FontWeight,
  sizePx: number,
): string {
  if (families.length === 0) throw new Error('pangoFontDescription: no font family given');
  for (const f of families) {
    if (!f.trim() || f.includes(',')) throw new Error(`pangoFontDescription: bad family "${f}"`);
  }
  if (!(Number.isFinite(sizePx) && sizePx > 0)) {
    throw new Error(`pangoFontDescription: bad size ${sizePx}`);
  }
  const size = Math.round(sizePx * 100) / 100;
  return `${families.join(', ')}, ${weight === 700 ? 'Bold ' : ''}${size}px`;
}
