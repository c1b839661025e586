// The gallery: one HTML page and one PNG of a run's creatives per market and aspect ratio.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { contactSheetPng, galleryHtml, type GallerySection } from '../../render/gallery.ts';

describe('gallery', () => {
  let dir: string;
  let sections: GallerySection[];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adloop-gallery-'));
    const still = async (name: string, width: number, height: number) => {
      const file = path.join(dir, 'assets', `${name}.jpg`);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      await sharp({ create: { width, height, channels: 3, background: '#336699' } })
        .jpeg()
        .toFile(file);
      return file;
    };
    sections = [
      {
        title: 'EG · 2026-11-28',
        items: [
          {
            title: '#1 ليلى النجار',
            subtitle: 'spotlight v3 · ar',
            rtl: true,
            assets: [
              {
                ratio: '1:1',
                kind: 'static',
                file: await still('a', 108, 108),
                qaPassed: true,
                platforms: ['meta', 'tiktok'],
                findings: [],
              },
              {
                ratio: '9:16',
                kind: 'static',
                file: await still('b', 108, 192),
                qaPassed: false,
                platforms: ['meta'],
                findings: ['tiktok: slot cta <under> the caption'],
              },
              {
                ratio: '9:16',
                kind: 'motion',
                file: path.join(dir, 'assets', 'b.mp4'),
                qaPassed: true,
                platforms: ['meta', 'tiktok'],
                findings: [],
              },
            ],
          },
        ],
      },
    ];
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes a page with each ratio, videos with their stills as posters, and QA reasons', () => {
    const html = galleryHtml('adloop <creatives>', sections, dir);
    assert.match(html, /<title>adloop &lt;creatives&gt;<\/title>/);
    assert.match(html, /<div class="meta" dir="rtl"><div class="t">#1 ليلى النجار<\/div>/);
    assert.match(html, /<img src="assets\/a\.jpg" alt="1:1">/);
    assert.match(html, /<video src="assets\/b\.mp4" poster="assets\/b\.jpg"/);
    assert.match(html, /<li>tiktok: slot cta &lt;under&gt; the caption<\/li>/, 'reasons, escaped');
    assert.match(html, /class="bad">static ✗<\/span> → meta/);
    // Four cells per item, one per ratio, empty where nothing was rendered.
    assert.equal(html.match(/<figure>/g)?.length, 4);
  });

  it('draws a PNG contact sheet of the stills', async () => {
    const file = path.join(dir, 'sheet.png');
    await contactSheetPng(sections, file, 100);
    const meta = await sharp(file).metadata();
    assert.equal(meta.format, 'png');
    assert.ok(meta.width > 200 + 4 * 16 && meta.height > 100, `${meta.width}x${meta.height}`);
  });
});
