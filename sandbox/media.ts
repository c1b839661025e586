// What the sandbox servers need to know about uploads: the multipart/form-data bodies SDKs send
// (superagent's form-data encoding), and an image's or video's pixel size, from which the
// simulator's placement fit follows (TikTok favours full-screen 9:16).
import sharp from 'sharp';

export interface FormPart {
  name: string;
  filename: string | null;
  contentType: string | null;
  data: Buffer;
}

/** Splits a multipart/form-data body into its parts; null when it is not well formed. */
export function parseMultipart(body: Buffer, contentType: string): FormPart[] | null {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const b = boundary?.[1] ?? boundary?.[2];
  if (!b) return null;
  // Normalise so every delimiter, the first included, reads CRLF--boundary.
  const data = Buffer.concat([Buffer.from('\r\n'), body]);
  const delimiter = Buffer.from(`\r\n--${b}`);
  const parts: FormPart[] = [];
  let pos = data.indexOf(delimiter);
  if (pos < 0) return null;
  for (;;) {
    const start = pos + delimiter.length;
    if (data.subarray(start, start + 2).toString() === '--') return parts; // closing delimiter
    const next = data.indexOf(delimiter, start);
    if (next < 0) return null;
    const part = data.subarray(start + 2, next); // skip the CRLF after the boundary
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd < 0) return null;
    const headers = part.subarray(0, headerEnd).toString('utf8');
    const disposition = /content-disposition:([^\r\n]*)/i.exec(headers)?.[1] ?? '';
    const name = /\bname="([^"]*)"/i.exec(disposition)?.[1];
    if (name === undefined) return null;
    parts.push({
      name,
      filename: /\bfilename="([^"]*)"/i.exec(disposition)?.[1] ?? null,
      contentType: /content-type:\s*([^\r\n]*)/i.exec(headers)?.[1]?.trim() ?? null,
      data: part.subarray(headerEnd + 4),
    });
    pos = next;
  }
}

export interface ImageInfo {
  width: number;
  height: number;
  format: string;
}

/** Size and format of an image (via sharp); null when the bytes are not an image. */
export async function imageInfo(bytes: Buffer): Promise<ImageInfo | null> {
  try {
    const m = await sharp(bytes).metadata();
    if (!m.width || !m.height || !m.format) return null;
    return { width: m.width, height: m.height, format: m.format };
  } catch {
    return null;
  }
}

/** True when the bytes start like an ISO base media file (MP4 / MOV): a box of type `ftyp`. */
export function isMp4(bytes: Buffer): boolean {
  return bytes.length >= 12 && bytes.subarray(4, 8).toString('latin1') === 'ftyp';
}

/**
 * The display size of an MP4's first visual track, from its `tkhd` (track header) box: width and
 * height are 16.16 fixed-point numbers at the end of the box. Audio tracks have zero size and are
 * skipped. Null when the file has no readable track header.
 */
export function mp4Size(bytes: Buffer): { width: number; height: number } | null {
  let from = 0;
  for (;;) {
    const at = bytes.indexOf('tkhd', from, 'latin1');
    if (at < 4) return null;
    from = at + 4;
    const version = bytes[at + 4];
    // type(4) version+flags(4) times/track/duration (v0: 20 bytes, v1: 32) reserved(8)
    // layer/alternate/volume/reserved(8) matrix(36), then width and height.
    const sizeAt = at + 8 + (version === 1 ? 32 : 20) + 8 + 8 + 36;
    if (sizeAt + 8 > bytes.length) return null;
    const width = Math.round(bytes.readUInt32BE(sizeAt) / 65536);
    const height = Math.round(bytes.readUInt32BE(sizeAt + 4) / 65536);
    if (width > 0 && height > 0) return { width, height };
  }
}

const NAMED_RATIOS: Array<[string, number]> = [
  ['9:16', 9 / 16],
  ['4:5', 4 / 5],
  ['1:1', 1],
  ['16:9', 16 / 9],
];

/** `9:16`-style label of a size: the nearest common ratio within 3%, else the reduced fraction. */
export function aspectRatio(width: number, height: number): string | null {
  if (!(width > 0 && height > 0)) return null;
  const r = width / height;
  for (const [label, value] of NAMED_RATIOS) if (Math.abs(r / value - 1) < 0.03) return label;
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const g = gcd(width, height);
  return `${width / g}:${height / g}`;
}
