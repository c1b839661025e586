// Text fitting: set a slot's text with pango (through sharp's text input, so Arabic and Hebrew are
// shaped and laid out right to left, and mixed-direction lines follow the Unicode bidi rules),
// wrapped at word boundaries to the box width, at the template's size when it fits, else at the
// largest size down to the template's minimum that fits. Text that does not fit even then is
// reported (`fits: false`), drawn at the minimum size and clipped to its box, and fails QA.
import sharp from 'sharp';
import { escapeXml } from '../core/xml.ts';
import { pangoFontDescription } from './fonts.ts';
import type { Box } from './platform-specs.ts';
import type { TextDirection } from './spec.ts';
import type { TextStyle } from './template.ts';

export interface FittedText {
  /** Straight-alpha RGBA pixels of the text, `ink.width` x `ink.height`. */
  rgba: Buffer;
  /** Where the text is drawn on the canvas (clipped to the box when it does not fit). */
  ink: Box;
  box: Box;
  sizePx: number;
  /** `#rrggbb`. */
  color: string;
  fits: boolean;
  /** Pango layouts it took to find the size (1 when the text fits at full size). */
  attempts: number;
}

interface Laid {
  rgba: Buffer;
  width: number;
  height: number;
}

async function layout(
  text: string,
  style: TextStyle,
  color: string,
  sizePx: number,
  width: number,
): Promise<Laid> {
  const { data, info } = await sharp({
    text: {
      text: `<span foreground="${color}">${escapeXml(text)}</span>`,
      font: pangoFontDescription(style.font, style.weight, sizePx),
      width,
      // Pango aligns the lines against each other (and mirrors left/right in a right-to-left
      // paragraph, so 'left' is the reading start); the block is placed in the box below.
      align: style.align === 'center' ? 'centre' : style.align === 'start' ? 'left' : 'right',
      rgba: true,
      wrap: 'word',
      dpi: 72,
    },
  })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { rgba: data, width: info.width, height: info.height };
}

function pangoAlign(style: TextStyle, direction: TextDirection): TextStyle['align'] {
  if (style.align === 'center') return 'center';
  // Start is the reading start: right in a right-to-left language.
  const startIsLeft = direction === 'ltr';
  return (style.align === 'start') === startIsLeft ? 'start' : 'end';
}

/**
 * Fits `text` into `style.box`. `color` is the resolved `#rrggbb`. Sizes are searched in whole
 * pixels: the first probe is the area-scaled guess, then a bisection between the sizes known to fit
 * and not to fit, so a shrink costs about four layouts.
 */
export async function fitText(
  text: string,
  style: TextStyle,
  color: string,
  direction: TextDirection,
): Promise<FittedText> {
  const [bx, by, bw, bh] = style.box;
  const box = { x: bx, y: by, width: bw, height: bh };
  const width = Math.floor(bw);
  const fitsBox = (l: Laid) => l.width <= bw && l.height <= bh;
  let attempts = 1;
  let best: { laid: Laid; size: number } | null = null;
  let laid = await layout(text, style, color, style.size, width);
  if (fitsBox(laid)) best = { laid, size: style.size };
  else {
    let lo = Math.ceil(style.minSize) - 1; // largest size known to fit (none yet)
    let hi = Math.floor(style.size); // smallest size known not to fit
    let probe = Math.floor(style.size * Math.sqrt((bw * bh) / (laid.width * laid.height)));
    while (hi - lo > 1) {
      probe = Math.min(hi - 1, Math.max(lo + 1, probe));
      const l = await layout(text, style, color, probe, width);
      attempts++;
      if (fitsBox(l)) {
        lo = probe;
        best = { laid: l, size: probe };
      } else hi = probe;
      probe = (lo + hi) >> 1;
    }
    if (!best && lo < Math.ceil(style.minSize)) {
      laid = await layout(text, style, color, style.minSize, width);
      attempts++;
    }
  }
  const chosen = best?.laid ?? laid;
  const sizePx = best?.size ?? style.minSize;
  const align = pangoAlign(style, direction);
  const w = Math.min(chosen.width, bw);
  const h = Math.min(chosen.height, bh);
  const x = align === 'center' ? bx + (bw - w) / 2 : align === 'start' ? bx : bx + bw - w;
  const y =
    style.valign === 'top' ? by : style.valign === 'bottom' ? by + bh - h : by + (bh - h) / 2;
  const rgba =
    w === chosen.width && h === chosen.height
      ? chosen.rgba
      : await sharp(chosen.rgba, {
          raw: { width: chosen.width, height: chosen.height, channels: 4 },
        })
          .extract({ left: 0, top: 0, width: Math.floor(w), height: Math.floor(h) })
          .raw()
          .toBuffer();
  return {
    rgba,
    ink: { x: Math.round(x), y: Math.round(y), width: Math.floor(w), height: Math.floor(h) },
    box,
    sizePx,
    color,
    fits: best !== null,
    attempts,
  };
}
