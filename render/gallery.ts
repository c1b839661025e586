// The gallery: a contact sheet of creatives per market (or template) and aspect ratio, as one HTML
// page (stills, videos, QA verdicts with their reasons) and one PNG of the stills, so a person can
// see at a glance what ships, in every script, and what QA held back.
import fs from 'node:fs';
import path from 'node:path';
import sharp, { type OverlayOptions } from 'sharp';
import { escapeXml } from '../core/xml.ts';
import { ASPECT_RATIOS, type AspectRatio, type CreativeKind } from './spec.ts';

export interface GalleryAsset {
  ratio: AspectRatio;
  kind: CreativeKind;
  /** A local file with the asset's bytes. */
  file: string;
  qaPassed: boolean;
  /** Platforms it may go to. */
  platforms: string[];
  findings: string[];
}

export interface GalleryItem {
  title: string;
  subtitle: string;
  /** Right-to-left copy: the row's captions are set that way. */
  rtl: boolean;
  assets: GalleryAsset[];
}

export interface GallerySection {
  title: string;
  items: GalleryItem[];
}

const CSS = `
body{font-family:'Noto Sans',system-ui,sans-serif;background:#111;color:#eee;margin:24px}
h1{font-weight:700}h2{margin-top:40px;border-bottom:1px solid #333;padding-bottom:6px}
.item{display:grid;grid-template-columns:220px repeat(4,auto);gap:16px;align-items:start;margin:18px 0}
.meta .t{font-weight:700}.meta .s{color:#aaa;font-size:13px}
figure{margin:0}figure img,figure video{height:240px;display:block;border-radius:6px;background:#222}
figcaption{font-size:12px;color:#bbb;margin-top:4px;max-width:300px}
.ok{color:#1ed760}.bad{color:#ff6b6b}.findings{color:#ff9b9b;font-size:12px;margin:4px 0 0;padding-left:16px}
`;

function cell(out: string, assets: GalleryAsset[], ratio: AspectRatio): string {
  const still = assets.find((a) => a.ratio === ratio && a.kind === 'static');
  const motion = assets.find((a) => a.ratio === ratio && a.kind === 'motion');
  if (!still && !motion) return '<figure></figure>';
  const rel = (f: string) => escapeXml(path.relative(out, f).split(path.sep).join('/'));
  const media = motion
    ? `<video src="${rel(motion.file)}"${still ? ` poster="${rel(still.file)}"` : ''} muted loop autoplay playsinline controls></video>`
    : `<img src="${rel(still!.file)}" alt="${ratio}">`;
  const verdicts = [still, motion]
    .filter((a): a is GalleryAsset => a !== undefined)
    .map(
      (a) =>
        `<span class="${a.qaPassed ? 'ok' : 'bad'}">${a.kind} ${a.qaPassed ? '✓' : '✗'}</span> → ${escapeXml(a.platforms.join(', ') || 'nowhere')}` +
        (a.findings.length
          ? `<ul class="findings">${a.findings.map((f) => `<li>${escapeXml(f)}</li>`).join('')}</ul>`
          : ''),
    )
    .join('<br>');
  return `<figure>${media}<figcaption>${ratio}<br>${verdicts}</figcaption></figure>`;
}

/** One self-contained HTML page (assets referenced relative to `outDir`). */
export function galleryHtml(title: string, sections: GallerySection[], outDir: string): string {
  const body = sections
    .map(
      (s) =>
        `<h2>${escapeXml(s.title)}</h2>` +
        s.items
          .map(
            (it) =>
              `<div class="item"><div class="meta" dir="${it.rtl ? 'rtl' : 'ltr'}"><div class="t">${escapeXml(it.title)}</div><div class="s">${escapeXml(it.subtitle)}</div></div>` +
              ASPECT_RATIOS.map((r) => cell(outDir, it.assets, r)).join('') +
              '</div>',
          )
          .join(''),
    )
    .join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeXml(title)}</title><style>${CSS}</style></head><body><h1>${escapeXml(title)}</h1>${body}</body></html>\n`;
}

async function label(text: string, width: number, size: number, color = '#eeeeee') {
  const { data, info } = await sharp({
    text: {
      text: `<span foreground="${color}">${escapeXml(text)}</span>`,
      font: `Noto Sans, Noto Sans Arabic, Noto Sans Hebrew, ${size}px`,
      width,
      rgba: true,
      wrap: 'word',
    },
  })
    .png()
    .toBuffer({ resolveWithObject: true });
  return { data, height: info.height };
}

/**
 * A PNG of the stills: a row per item, a column per aspect ratio, each still `rowHeight` px high,
 * with the item's title and a mark where QA held an asset back.
 */
export async function contactSheetPng(
  sections: GallerySection[],
  file: string,
  rowHeight = 220,
): Promise<void> {
  const gap = 16;
  const labelWidth = 200;
  const widths = ASPECT_RATIOS.map((r) => {
    const [w, h] = r.split(':').map(Number) as [number, number];
    return Math.round((rowHeight * w) / h);
  });
  const width = labelWidth + gap + widths.reduce((a, b) => a + b + gap, 0) + gap;
  const overlays: OverlayOptions[] = [];
  let y = gap;
  for (const s of sections) {
    const head = await label(s.title, width - 2 * gap, 26, '#ffffff');
    overlays.push({ input: head.data, left: gap, top: y });
    y += head.height + gap;
    for (const it of s.items) {
      const t = await label(`${it.title}\n${it.subtitle}`, labelWidth, 15);
      overlays.push({ input: t.data, left: gap, top: y });
      let x = gap + labelWidth + gap;
      for (const [i, ratio] of ASPECT_RATIOS.entries()) {
        const still = it.assets.find((a) => a.ratio === ratio && a.kind === 'static');
        if (still) {
          const thumb = await sharp(still.file)
            .resize(widths[i], rowHeight, { fit: 'fill' })
            .toBuffer();
          overlays.push({ input: thumb, left: x, top: y });
          const mark = await label(
            still.qaPassed ? '✓ QA' : '✗ QA',
            80,
            14,
            still.qaPassed ? '#1ed760' : '#ff6b6b',
          );
          overlays.push({ input: mark.data, left: x, top: y + rowHeight + 2 });
        }
        x += widths[i]! + gap;
      }
      y += rowHeight + 24 + gap;
    }
  }
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  await sharp({ create: { width, height: y, channels: 3, background: '#111111' } })
    .composite(overlays)
    .png({ compressionLevel: 9 })
    .toFile(file);
}
