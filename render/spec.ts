// What a creative is, independent of how it is rendered: the template (id and version), the
// language and direction of its copy, and the value of every slot. The built-in renderer (sharp +
// ffmpeg) and the nexrender adapter both take this spec; its hash is the creative's identity.

import type { AspectRatio, CreativeKind } from '../core/types.ts';

export {
  ASPECT_RATIOS,
  CREATIVE_KINDS,
  type AspectRatio,
  type CreativeKind,
} from '../core/types.ts';

export type StaticFormat = 'jpeg' | 'png';

export type TextDirection = 'ltr' | 'rtl';

export interface CreativeSpec {
  templateId: string;
  templateVersion: number;
  /** BCP 47 language of the copy (`en`, `ar`, ...). */
  language: string;
  direction: TextDirection;
  /** Text slot -> the text to set (copy already chosen for the language). */
  text: Record<string, string>;
  /** Image slot -> a local file path (JPEG, PNG, WebP or SVG). */
  images: Record<string, string>;
  /** Colour slot -> `#rrggbb`. */
  colors: Record<string, string>;
  /** An optional audio track for motion (for example a track preview): a local file path. */
  audio?: string | null;
  /** Which variants to produce. */
  ratios: AspectRatio[];
  kinds: CreativeKind[];
  staticFormat: StaticFormat;
}

/** One rendered file of a creative. */
export interface CreativeAsset {
  ratio: AspectRatio;
  kind: CreativeKind;
  /** `jpeg`, `png` or `mp4`. */
  format: StaticFormat | 'mp4';
  /** Storage key (`<creative hash>/<ratio>-<kind>.<ext>`). */
  key: string;
  /** Where it is stored: `file://...` or `s3://bucket/key`. */
  uri: string;
  width: number;
  height: number;
  bytes: number;
  /** Motion only. */
  durationSeconds?: number;
  /** Motion only: average bits per second of the whole file. */
  bitrate?: number;
}

export function ratioFileStem(ratio: AspectRatio): string {
  return ratio.replace(':', 'x');
}
