// The template format: the shipped templates are complete and safe, and a broken template is
// refused with an error naming the template, the file and the field.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadFontManifest } from '../../render/fonts.ts';
import { acceptsRatio, PLATFORMS, strictestSafeArea } from '../../render/platform-specs.ts';
import { checkTemplateFonts } from '../../render/renderer.ts';
import { ASPECT_RATIOS } from '../../render/spec.ts';
import {
  fillCopy,
  loadTemplate,
  loadTemplateLibrary,
  TemplateError,
  type TemplateJson,
} from '../../render/template.ts';
import { ROOT } from '../helpers/stack.ts';

const TEMPLATES = path.join(ROOT, 'templates');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'adloop-templates-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A copy of the spotlight template, changed by `edit`, in a folder of its own. */
function brokenCopy(
  name: string,
  edit: (t: TemplateJson & Record<string, unknown>, dir: string) => void,
): string {
  const dir = path.join(tmp, name, 'spotlight');
  fs.cpSync(path.join(TEMPLATES, 'spotlight'), dir, { recursive: true });
  const file = path.join(dir, 'template.json');
  const t = JSON.parse(fs.readFileSync(file, 'utf8')) as TemplateJson & Record<string, unknown>;
  edit(t, dir);
  fs.writeFileSync(file, JSON.stringify(t));
  return dir;
}

function refused(dir: string, ...patterns: RegExp[]) {
  assert.throws(
    () => loadTemplate(dir),
    (err: Error) => {
      assert.ok(err instanceof TemplateError, `a TemplateError, got ${err.name}`);
      assert.match(err.message, /template "spotlight"/);
      for (const p of patterns) assert.match(err.message, p);
      return true;
    },
  );
}

describe('shipped templates', () => {
  const library = loadTemplateLibrary(TEMPLATES);
  const fonts = loadFontManifest(path.join(TEMPLATES, 'fonts.json'));

  it('are at least four designs, each in every aspect ratio with a motion timeline', () => {
    assert.ok(library.templates.length >= 4, `${library.templates.length} templates`);
    assert.equal(new Set(library.templates.map((t) => t.theme)).size, library.templates.length);
    for (const t of library.templates) {
      assert.deepEqual(Object.keys(t.variants).sort(), [...ASPECT_RATIOS].sort(), t.id);
      assert.ok(Object.keys(t.motion.layers).length > 0, `${t.id} animates something`);
    }
    checkTemplateFonts(library, fonts);
  });

  it('have copy in at least three languages, one of them right to left', () => {
    for (const t of library.templates) {
      assert.ok(t.languages.length >= 3, t.id);
      assert.ok(
        t.languages.includes('ar') || t.languages.includes('he'),
        `${t.id}: an RTL language`,
      );
    }
  });

  it('keep every text box inside what both platforms leave visible', () => {
    for (const t of library.templates)
      for (const v of Object.values(t.variants)) {
        // Only platforms that place this ratio at all (TikTok takes no 4:5).
        const platforms = PLATFORMS.filter(
          (p) => acceptsRatio(p, 'static', v.ratio) || acceptsRatio(p, 'motion', v.ratio),
        );
        const safe = strictestSafeArea(platforms, v.ratio, v.width, v.height);
        for (const [slot, style] of Object.entries(v.text)) {
          const [x, y, w, h] = style.box;
          assert.ok(
            x >= safe.x &&
              y >= safe.y &&
              x + w <= safe.x + safe.width &&
              y + h <= safe.y + safe.height,
            `${t.id} ${v.ratio} ${slot} box [${style.box.join(', ')}] leaves the safe area ` +
              `[${safe.x}, ${safe.y}, ${safe.width}, ${safe.height}]`,
          );
        }
      }
  });

  it('draw photos no larger than the demo catalog provides (1080 px)', () => {
    for (const t of library.templates)
      for (const v of Object.values(t.variants))
        for (const [slot, size] of Object.entries(v.images))
          assert.ok(size.width <= 1080 && size.height <= 1080, `${t.id} ${v.ratio} ${slot}`);
  });

  it('fills copy placeholders and leaves unknown ones visible', () => {
    assert.equal(fillCopy('#1 in {market}', { market: 'Ägypten' }), '#1 in Ägypten');
    assert.equal(fillCopy('{artist} · {nope}', { artist: 'A' }), 'A · {nope}');
  });
});

describe('template validation', () => {
  it('names a missing aspect ratio', () => {
    refused(
      brokenCopy('no-ratio', (t) => {
        delete t.variants['4:5'];
      }),
      /variants\.4:5: missing/,
    );
  });

  it('names a variant whose size is not its ratio, and an SVG of another size', () => {
    refused(
      brokenCopy('bad-size', (t) => {
        t.variants['9:16']!.height = 1900;
      }),
      /variants\.9:16: 1080x1900 is not 9:16/,
      /variants\.9:16\.svg: the <svg> element must have width="1080" height="1900"/,
    );
  });

  it('names copy missing for a listed language', () => {
    refused(
      brokenCopy('no-copy', (t) => {
        t.languages.push('fi');
      }),
      /slots\.\w+\.copy\.fi: missing \(languages lists fi\)/,
    );
  });

  it('names an SVG placeholder that is not a slot, and a text box off the canvas', () => {
    refused(
      brokenCopy('bad-svg', (t, dir) => {
        const svg = path.join(dir, '1x1.svg');
        fs.writeFileSync(
          svg,
          fs.readFileSync(svg, 'utf8').replace('</svg>', '<rect fill="{{nope}}"/></svg>'),
        );
        t.variants['1:1']!.text.name!.box = [900, 900, 400, 100];
      }),
      /variants\.1:1\.svg: \{\{nope\}\} is not a slot/,
      /variants\.1:1\.text\.name\.box: reaches outside the canvas/,
    );
  });

  it('names a timeline layer that does not exist and keyframes out of order', () => {
    refused(
      brokenCopy('bad-motion', (t) => {
        t.motion.layers['layer-ghost'] = {
          opacity: [
            { t: 1, value: 0, ease: 'out' },
            { t: 0.5, value: 1, ease: 'out' },
          ],
        };
      }),
      /motion\.layers\.layer-ghost: no <g id="layer-ghost">/,
      /motion\.layers\.layer-ghost\.opacity\[1\]\.t: keyframe times must increase/,
    );
  });

  it('names content painted after a layer but outside any (motion would paint it below)', () => {
    refused(
      brokenCopy('paint-order', (_t, dir) => {
        const svg = path.join(dir, '9x16.svg');
        fs.writeFileSync(
          svg,
          fs
            .readFileSync(svg, 'utf8')
            .replace('</svg>', '<circle id="dot" cx="5" cy="5" r="5"/></svg>'),
        );
      }),
      /variants\.9:16\.svg: <circle id="dot"> comes after <g id="layer-\w+"> but is in no layer/,
    );
  });

  it('reports schema errors with the field path', () => {
    refused(
      brokenCopy('bad-schema', (t) => {
        (t as Record<string, unknown>).version = 0;
        (t.variants['1:1']!.text.name as Record<string, unknown>).size = 'big';
      }),
      /\n {2}version: /,
      /\n {2}variants\.1:1\.text\.name\.size: /,
    );
  });

  it('names a text colour that is neither #rrggbb nor a colour slot', () => {
    refused(
      brokenCopy('bad-color', (t) => {
        t.variants['1:1']!.text.name!.color = 'white';
      }),
      /variants\.1:1\.text\.name\.color: "white" is neither #rrggbb nor a colour slot/,
    );
  });

  it('names a font family the fonts manifest does not list', () => {
    const dir = brokenCopy('bad-font', (t) => {
      t.variants['16:9']!.text.name!.font = ['Comic Sans MS'];
    });
    const library = loadTemplateLibrary(path.dirname(dir));
    assert.throws(
      () => checkTemplateFonts(library, loadFontManifest(path.join(TEMPLATES, 'fonts.json'))),
      /template "spotlight" variants\.16:9\.text\.name\.font: "Comic Sans MS" is not in/,
    );
  });
});
