// Blending straight-alpha RGBA pixels in place, and finding where a raster has any opacity. Texts,
// photos and design parts cover parts of a canvas, so blending just those pixels here is several
// times cheaper than libvips' compositing, which works on the whole canvas in floating point.
import type { Box } from './platform-specs.ts';

/** Draws straight-alpha RGBA `src` (`box.width` x `box.height`) over `dst` at (box.x, box.y). */
export function blendOver(
  dst: Buffer,
  dstWidth: number,
  src: Buffer,
  box: Box,
  srcStart = 0,
  dstStart = 0,
): void {
  for (let row = 0; row < box.height; row++) {
    let s = srcStart + row * box.width * 4;
    let d = dstStart + ((box.y + row) * dstWidth + box.x) * 4;
    for (let col = 0; col < box.width; col++, s += 4, d += 4) {
      const a = src[s + 3]!;
      if (a === 0) continue;
      if (a === 255) {
        dst[d] = src[s]!;
        dst[d + 1] = src[s + 1]!;
        dst[d + 2] = src[s + 2]!;
        dst[d + 3] = 255;
        continue;
      }
      const da = dst[d + 3]!;
      const outA = a + (da * (255 - a)) / 255;
      for (let k = 0; k < 3; k++)
        dst[d + k] = Math.round((src[s + k]! * a + (dst[d + k]! * da * (255 - a)) / 255) / outA);
      dst[d + 3] = Math.round(outA);
    }
  }
}

/** Bounding box of the pixels with any opacity, or null for a fully transparent raster. */
export function opaqueBounds(r: { data: Buffer; width: number; height: number }): Box | null {
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
