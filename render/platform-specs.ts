// What each ad platform accepts, and which part of the canvas its interface covers. QA checks a
// rendered asset against these limits before it may be deployed (a rejection discovered at upload
// time, or a headline hidden under the like button, is what users of creative tools hate most), and
// the renderer uses `encoderMaxBitrate` for ffmpeg's -maxrate and `safeArea` to keep text visible.
//
// Every figure names where it comes from and when it was read. The platforms publish some limits
// as numbers and others only as overlay templates or ranges; where adloop had to pick a number
// the comment says it is a conservative choice and why. Platforms move their UI: re-read the
// sources when a figure looks off, and keep the date next to the number.
import type { AspectRatio, CreativeKind, StaticFormat } from './spec.ts';

export const PLATFORMS = ['meta', 'tiktok', 'google'] as const;
export type Platform = (typeof PLATFORMS)[number];

/** A rectangle in canvas pixels. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The part of each edge the platform's interface covers, as fractions of the canvas. */
export interface Margins {
  top: number;
  right: number;
  bottom: number;
  left: number;
}

export interface ImageLimits {
  formats: readonly StaticFormat[];
  maxBytes: number;
  minWidth: number;
  minHeight: number;
}

export interface VideoLimits {
  minDurationSeconds: number;
  maxDurationSeconds: number;
  maxBytes: number;
  /** Average bits per second of the whole file. */
  minBitrate: number;
  maxBitrate: number;
  codec: 'h264';
  pixelFormat: 'yuv420p';
  /** Smallest accepted width x height per aspect ratio the platform takes for motion. */
  minResolution: Partial<Record<AspectRatio, { width: number; height: number }>>;
}

export interface PlatformSpec {
  /** Aspect ratios the platform places, per kind; anything else is not deployable there. */
  ratios: Record<CreativeKind, readonly AspectRatio[]>;
  image: ImageLimits;
  video: VideoLimits;
  /** What the renderer passes to ffmpeg as -maxrate (bits per second). */
  encoderMaxBitrate: number;
  /** Interface overlays per aspect ratio (see `safeArea`). */
  safeZones: Record<AspectRatio, Margins>;
}

// Decimal units: where a platform says "30MB" without saying which, the smaller reading is safe.
const MB = 1_000_000;
const GB = 1_000_000_000;

/**
 * TikTok plays every in-feed ad in a full-screen 9:16 player and letterboxes other ratios into it
 * (centred, fitted to the width for ratios wider than 9:16). Its overlays are fixed to the player,
 * so the margins a 1:1 or 16:9 creative loses are the player's margins minus the black bars.
 */
function letterboxedMargins(player: Margins, ratio: AspectRatio): Margins {
  const [w, h] = ratio.split(':').map(Number) as [number, number];
  const playerHeight = 16 / 9; // in player widths
  const contentHeight = h / w; // fitted to the player's width: every ratio here is >= 9:16
  const bar = (playerHeight - contentHeight) / 2;
  const covered = (fraction: number) =>
    Math.max(0, (fraction * playerHeight - bar) / contentHeight);
  return {
    top: covered(player.top),
    right: player.right,
    bottom: covered(player.bottom),
    left: player.left,
  };
}

// TikTok's in-feed player overlays on 9:16. TikTok publishes overlay templates, not numbers
// ("Downloadable safe zone files", https://ads.tiktok.com/help/article/tiktok-kyte-set-up-guide,
// read 2026-11-28), so these are measurements of those templates:
const tiktokPlayer: Margins = {
  // Top bar (Following / For You, search): 160 px of 1280 = 12.5%, measured from TikTok's
  // In-Feed-Standard LTR template (https://forum.logik.tv/t/some-social-media-safe-zone-matchbox/14356,
  // read 2026-11-28).
  top: 0.125,
  // Like / comment / share rail. A rectangle has to exclude the rail's whole column. 15% is a
  // conservative choice: 11.1% measured on TikTok's add-on template (same forum thread), 150 of
  // 1080 px = 13.9% in https://adfuseai.com/blog/tiktok-ad-sizes-specs-guide (read 2026-11-28),
  // rounded up because the rail grows with the font-size setting of the phone.
  right: 0.15,
  // Caption, username, sound and the CTA button: 440 px of 1280 = 34.4% in the same template
  // measurement, rounded up to 35% (conservative: a long caption wraps to more lines).
  bottom: 0.35,
  // Caption and username start near the left edge; 11.1% measured on TikTok's add-on template
  // (t=0.1302 b=0.3350 l=0.1106 r=0.1106 in the forum thread above, read 2026-11-28).
  left: 0.11,
};

// Meta Reels ads: keep "14% of the top, 6% of the sides, and 35% of the bottom" free of text and
// logos (Meta Ads Guide as quoted by https://mediamaxnetwork.com/digital-specifications/social-ads/
// and https://shotstack.io/learn/vertical-video-safe-zones/, read 2026-11-28). Stories need only
// 14% / 20% (same sources); a 9:16 asset may run in either, so the Reels figures (stricter) win.
const metaVertical: Margins = { top: 0.14, right: 0.06, bottom: 0.35, left: 0.06 };
// Feed placements draw nothing over the creative. 5% on every side is a conservative choice, not a
// Meta figure: feed cards have rounded corners, the Instagram profile grid crops 4:5 to 3:4
// (3.1% per side), and an Instagram 4:5 feed guide keeps 64 of 1080 px (5.9%) clear
// (https://www.imagefactory.co.kr/en/guides/instagram-story-ad-text-safe-zone, read 2026-11-28).
const metaFeed: Margins = { top: 0.05, right: 0.05, bottom: 0.05, left: 0.05 };

export const PLATFORM_SPECS: Readonly<Record<Platform, PlatformSpec>> = Object.freeze({
  meta: {
    ratios: {
      // Feed takes 1.91:1 to 4:5 (so 16:9 and 1:1 and 4:5), Stories and Reels take 9:16
      // (https://developers.facebook.com/docs/instagram/ads-api/reference/media-requirements/
      // and the Meta Ads Guide as quoted by https://alladspecs.com/specs/meta-facebook/feed-image-ad,
      // read 2026-11-28).
      static: ['1:1', '4:5', '9:16', '16:9'],
      motion: ['1:1', '4:5', '9:16', '16:9'],
    },
    image: {
      // JPG or PNG, at most 30 MB (Meta Ads Guide via https://alladspecs.com/specs/meta-facebook/feed-image-ad,
      // read 2026-11-28).
      formats: ['jpeg', 'png'],
      maxBytes: 30 * MB,
      // "We require all images and videos to have at least a 600px width, independent of the ad's
      // placement" (https://developers.facebook.com/docs/instagram/ads-api/reference/media-requirements/,
      // read 2026-11-28); Feed images also need 600 px height (https://www.xyzlab.com/meta-ads-specs).
      minWidth: 600,
      minHeight: 600,
    },
    video: {
      // "Videos need to have between 3 and 60 seconds" for Instagram ads through the API
      // (https://developers.facebook.com/docs/instagram/ads-api/reference/media-requirements/,
      // read 2026-11-28). Facebook Feed alone allows 1 s to 241 min; with placements on both
      // apps the Instagram range is the one that always holds.
      minDurationSeconds: 3,
      maxDurationSeconds: 60,
      // "The video file size cannot be over 2.3GB" (same page); the Ads Guide says 4 GB for Facebook.
      maxBytes: 2.3 * GB,
      // Meta publishes no bitrate floor. 500 kbps is adloop's own floor (conservative): below it a
      // 1080p creative is visibly blocky after Meta re-encodes it.
      minBitrate: 500_000,
      // No published ceiling either; above 20 Mbps the file only gets slower to upload (flaky
      // video uploads are a known complaint) and Meta re-encodes it anyway. adloop's choice.
      maxBitrate: 20_000_000,
      // H.264, 4:2:0 chroma subsampling, fixed frame rate, progressive (Meta's Reels settings as
      // quoted by https://ayrshare.com/docs/media-guidelines/facebook_pages, read 2026-11-28).
      codec: 'h264',
      pixelFormat: 'yuv420p',
      // 600 px width for every placement (developers.facebook.com page above); the height follows
      // from the ratio.
      minResolution: {
        '1:1': { width: 600, height: 600 },
        '4:5': { width: 600, height: 750 },
        '9:16': { width: 600, height: 1067 },
        '16:9': { width: 600, height: 338 },
      },
    },
    // 8 Mbps for 1080p (https://docs.getlate.dev/resources/media-guidelines/facebook, read
    // 2026-11-28): a 15 s creative stays near 15 MB, far below every size limit.
    encoderMaxBitrate: 8_000_000,
    safeZones: { '1:1': metaFeed, '4:5': metaFeed, '9:16': metaVertical, '16:9': metaFeed },
  },
  tiktok: {
    ratios: {
      // Image ads run on TikTok's app network (Pangle) placements: 1200x628, 640x640, 720x1280
      // (https://ads.tiktok.com/help/article/specifications-for-pangle-ad-assets, read
      // 2026-11-28). Of adloop's ratios that is 1:1 and 9:16.
      static: ['1:1', '9:16'],
      // "Aspect Ratio: 9:16, 1:1, or 16:9"
      // (https://ads.tiktok.com/help/article/video-ads-specifications, read 2026-11-28).
      motion: ['9:16', '1:1', '16:9'],
    },
    image: {
      // .jpg, .jpeg or .png, max 100 MB; smallest listed size 640x640 (Pangle page above).
      formats: ['jpeg', 'png'],
      maxBytes: 100 * MB,
      minWidth: 640,
      minHeight: 640,
    },
    video: {
      // "Videos can be between 5-60s", "Bitrate ≥516 kbps", "File Size within 500MB"
      // (https://ads.tiktok.com/help/article/video-ads-specifications, read 2026-11-28).
      minDurationSeconds: 5,
      maxDurationSeconds: 60,
      maxBytes: 500 * MB,
      minBitrate: 516_000,
      // Not published; same reasoning and value as Meta's (adloop's choice).
      maxBitrate: 20_000_000,
      // TikTok lists containers (.mp4, .mov...), not codecs; H.264 in yuv420p is adloop's choice
      // because every phone decodes it in hardware and both platforms accept it.
      codec: 'h264',
      pixelFormat: 'yuv420p',
      // "Resolution must be a minimum of 540*960px, 640*640px, or 960*540px" (same page).
      minResolution: {
        '9:16': { width: 540, height: 960 },
        '1:1': { width: 640, height: 640 },
        '16:9': { width: 960, height: 540 },
      },
    },
    // Same as Meta: TikTok re-encodes uploads, so a higher rate only costs upload time.
    encoderMaxBitrate: 8_000_000,
    safeZones: {
      '9:16': tiktokPlayer,
      '1:1': letterboxedMargins(tiktokPlayer, '1:1'),
      '4:5': letterboxedMargins(tiktokPlayer, '4:5'),
      '16:9': letterboxedMargins(tiktokPlayer, '16:9'),
    },
  },
  google: {
    ratios: {
      // App campaign image assets: landscape 1.91:1 (1200x628), square 1:1 (1200x1200) and
      // portrait 4:5 (1200x1500) ("About asset specifications for App campaigns",
      // https://support.google.com/google-ads/answer/9247199, read 2026-12-06). Of adloop's ratios
      // that is 1:1 and 4:5.
      static: ['1:1', '4:5'],
      // Videos are YouTube videos, "landscape, portrait and square" all serve (same page).
      motion: ['9:16', '1:1', '16:9', '4:5'],
    },
    image: {
      // JPG, PNG or GIF, "Max file size: 5,120 KB" (same page), read as 5,120,000 bytes (the
      // smaller reading is safe); the smallest listed size is the portrait 320x400 (square 200x200
      // is smaller, but a 1:1 over 320 px is adloop's floor so one limit holds for both ratios).
      formats: ['jpeg', 'png'],
      maxBytes: 5_120_000,
      minWidth: 320,
      minHeight: 320,
    },
    video: {
      // YouTube takes 256 GB or 12 hours (https://support.google.com/youtube/answer/71673, read
      // 2026-12-06); App campaigns recommend 10 s and longer but refuse nothing shorter, so the
      // floor is the same 3 s as Meta's (adloop's choice: shorter clips carry no message).
      minDurationSeconds: 3,
      maxDurationSeconds: 60,
      maxBytes: 256 * GB,
      // YouTube re-encodes everything; it recommends far higher rates than adloop's floor
      // (https://support.google.com/youtube/answer/1722171): adloop's floor as for the others.
      minBitrate: 500_000,
      maxBitrate: 20_000_000,
      codec: 'h264',
      pixelFormat: 'yuv420p',
      // YouTube's smallest standard resolution is 426x240 (same page); adloop's renders are far
      // above it in every ratio.
      minResolution: {
        '16:9': { width: 426, height: 240 },
        '1:1': { width: 240, height: 240 },
        '9:16': { width: 240, height: 426 },
        '4:5': { width: 240, height: 300 },
      },
    },
    encoderMaxBitrate: 8_000_000,
    // Google's inventory (YouTube, Play, Discover, AdMob) places images in cards with nothing drawn
    // over them: the same 5% feed margin as Meta's (adloop's choice). Vertical video plays in
    // YouTube Shorts, whose channel name, caption and CTA cover the bottom and the action rail the
    // right: Meta's Reels figures are the stricter comparable ones (adloop's choice; Google
    // publishes a Shorts overlay template, not numbers).
    safeZones: { '1:1': metaFeed, '4:5': metaFeed, '9:16': metaVertical, '16:9': metaFeed },
  },
});

/** Whether `platform` places `kind` creatives of this aspect ratio at all. */
export function acceptsRatio(platform: Platform, kind: CreativeKind, ratio: AspectRatio): boolean {
  return PLATFORM_SPECS[platform].ratios[kind].includes(ratio);
}

/**
 * The part of a `width` x `height` canvas that `platform`'s interface leaves visible for this
 * aspect ratio, in whole pixels (rounded inwards, so anything inside it is safe).
 */
export function safeArea(
  platform: Platform,
  ratio: AspectRatio,
  width: number,
  height: number,
): Box {
  const m = PLATFORM_SPECS[platform].safeZones[ratio];
  const x = Math.ceil(m.left * width);
  const y = Math.ceil(m.top * height);
  const right = Math.floor(width - m.right * width);
  const bottom = Math.floor(height - m.bottom * height);
  return { x, y, width: Math.max(0, right - x), height: Math.max(0, bottom - y) };
}

/**
 * The area that is safe on every one of `platforms` (their intersection): where text goes when one
 * asset ships to several platforms. No platforms: the whole canvas.
 */
export function strictestSafeArea(
  platforms: readonly Platform[],
  ratio: AspectRatio,
  width: number,
  height: number,
): Box {
  let x0 = 0;
  let y0 = 0;
  let x1 = width;
  let y1 = height;
  for (const p of platforms) {
    const a = safeArea(p, ratio, width, height);
    x0 = Math.max(x0, a.x);
    y0 = Math.max(y0, a.y);
    x1 = Math.min(x1, a.x + a.width);
    y1 = Math.min(y1, a.y + a.height);
  }
  return { x: x0, y: y0, width: Math.max(0, x1 - x0), height: Math.max(0, y1 - y0) };
}
