// Creative templates: an SVG design with {{slot}} placeholders, listed in templates/manifest.json
// with an id, a version (bump it when the design changes: it is part of every creative's hash)
// and copy per language.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { issueLines, readJsonFile } from '../../core/validation.ts';
import { escapeXml } from '../../core/xml.ts';

const manifestSchema = z.object({
  templates: z
    .array(
      z.object({
        id: z.string().regex(/^[a-z][a-z0-9-]*$/),
        version: z.number().int().positive(),
        theme: z.string().min(1),
        file: z.string().min(1),
        aspectRatio: z.string().regex(/^\d+:\d+$/),
        width: z.number().int().positive(),
        height: z.number().int().positive(),
      }),
    )
    .min(1),
  copy: z.object({
    cta: z.record(z.string(), z.string().min(1)),
    headline: z.record(z.string(), z.string().min(1)),
  }),
});

export interface Template {
  id: string;
  version: number;
  theme: string;
  aspectRatio: string;
  width: number;
  height: number;
  svg: string;
  /** Hash of the SVG source, so an edited design never reuses an old render. */
  sourceHash: string;
}

export interface TemplateLibrary {
  templates: Template[];
  get(id: string): Template;
  copy(kind: 'cta' | 'headline', language: string): string;
}

export function loadTemplates(dir: string): TemplateLibrary {
  const file = path.join(dir, 'manifest.json');
  const raw = readJsonFile(file, 'template manifest');
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = issueLines(parsed.error);
    throw new Error(`template manifest ${file} is invalid:\n${lines.join('\n')}`);
  }
  const templates = parsed.data.templates.map((t) => {
    const svgPath = path.join(dir, t.file);
    if (!fs.existsSync(svgPath)) throw new Error(`template ${t.id}: file not found: ${svgPath}`);
    const svg = fs.readFileSync(svgPath, 'utf8');
    return { ...t, svg, sourceHash: createHash('sha256').update(svg).digest('hex') };
  });
  const byId = new Map(templates.map((t) => [t.id, t]));
  const { copy } = parsed.data;
  return {
    templates,
    get(id) {
      const t = byId.get(id);
      if (!t) throw new Error(`unknown template "${id}" (known: ${[...byId.keys()].join(', ')})`);
      return t;
    },
    copy(kind, language) {
      return copy[kind][language] ?? copy[kind].en ?? '';
    },
  };
}

/** Fills {{slot}} placeholders with XML-escaped values; an unfilled slot is an error. */
export function fillTemplate(svg: string, slots: Record<string, string>): string {
  return svg.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    const value = slots[name];
    if (value === undefined) throw new Error(`template slot {{${name}}} has no value`);
    return escapeXml(value);
  });
}
