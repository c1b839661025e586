// The fonts manifest (templates/fonts.json): every family a template may name, with one file per
// weight and the Debian package that installs it. Pango finds fonts through fontconfig by family
// name, and silently falls back to whatever else is installed when a family is missing; that is how
// a preview and a render come to differ. So the manifest pins the files, loading it fails loudly
// when one is absent, its hash goes into every creative's hash (a font upgrade re-renders), and QA
// checks glyph coverage against exactly these files, not against whatever fontconfig would pick.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSync } from 'fontkit';
import type { Font } from 'fontkit';
import { z } from 'zod';
import { issueLines, readJsonFile } from '../core/validation.ts';

export const FONT_WEIGHTS = [400, 700] as const;
export type FontWeight = (typeof FONT_WEIGHTS)[number];

/** Where fonts are looked for by default: the system, local and per-user font directories. */
export const DEFAULT_FONT_DIRS: readonly string[] = [
  '/usr/share/fonts',
  '/usr/local/share/fonts',
  path.join(os.homedir(), '.fonts'),
];

const fileName = z
  .string()
  .min(1)
  .refine((f) => path.basename(f) === f, 'expected a file name without a directory')
  .refine((f) => /\.(ttf|otf)$/i.test(f), 'expected a .ttf or .otf file');

const manifestSchema = z.strictObject({
  families: z
    .array(
      z.strictObject({
        // Commas separate families in a pango font description, so a name cannot hold one.
        name: z
          .string()
          .min(1)
          .regex(/^[^,]+$/, 'a family name cannot contain a comma'),
        /** Debian package that provides the files (`apt-get install <package>`). */
        package: z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/, 'expected a Debian package name'),
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
  /** Where it was found. */
  path: string;
  bytes: number;
}

export interface FontFamily {
  name: string;
  package: string;
  files: Record<FontWeight, FontFile>;
}

export interface FontManifest {
  /** The manifest file it was loaded from. */
  file: string;
  families: FontFamily[];
  /**
   * sha256 over family names, file names and file sizes: part of every creative's hash, so
   * upgrading a font package renders creatives anew.
   */
  hash: string;
  /** The family's resolved file for a weight; throws for a family the manifest does not list. */
  path(family: string, weight: FontWeight): string;
}

// File name -> path for each font directory. Walking /usr/share/fonts takes a few milliseconds
// and the renderer loads the manifest once per worker, but tests and scripts load it often.
const dirIndexes = new Map<string, Map<string, string>>();

function indexDir(dir: string): Map<string, string> {
  const cached = dirIndexes.get(dir);
  if (cached) return cached;
  const index = new Map<string, string>();
  const walk = (d: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return; // a missing or unreadable directory simply has no fonts
    }
    // Sorted so that a file present twice resolves the same way on every machine.
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else if ((e.isFile() || e.isSymbolicLink()) && !index.has(e.name)) index.set(e.name, full);
    }
  };
  walk(dir);
  dirIndexes.set(dir, index);
  return index;
}

function findFont(name: string, fontDirs: readonly string[]): string | undefined {
  for (const dir of fontDirs) {
    const found = indexDir(dir).get(name);
    if (found) return found;
  }
  return undefined;
}

/**
 * Loads and checks a fonts manifest, resolving each file in `fontDirs` (searched recursively, in
 * order; default `DEFAULT_FONT_DIRS`). Throws naming the field when the manifest is invalid, and
 * naming family, weight, file and the package to install when a file is missing.
 */
export function loadFontManifest(
  file: string,
  fontDirs: readonly string[] = DEFAULT_FONT_DIRS,
): FontManifest {
  const parsed = manifestSchema.safeParse(readJsonFile(file, 'font manifest'));
  if (!parsed.success) {
    throw new Error(`font manifest ${file} is invalid:\n${issueLines(parsed.error).join('\n')}`);
  }
  const families: FontFamily[] = parsed.data.families.map((f) => {
    const resolve = (weight: FontWeight): FontFile => {
      const name = f.files[weight];
      const found = findFont(name, fontDirs);
      if (!found) {
        throw new Error(
          `font "${f.name}" weight ${weight}: file ${name} not found in ${fontDirs.join(', ')} ` +
            `(listed in ${file}); install it with: apt-get install ${f.package}`,
        );
      }
      return { file: name, path: found, bytes: fs.statSync(found).size };
    };
    return { name: f.name, package: f.package, files: { 400: resolve(400), 700: resolve(700) } };
  });

  const h = createHash('sha256');
  for (const f of families) {
    h.update(`${f.name}\n`);
    for (const w of FONT_WEIGHTS) h.update(`${w}\t${f.files[w].file}\t${f.files[w].bytes}\n`);
  }
  const byName = new Map(families.map((f) => [f.name, f]));
  return {
    file,
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
