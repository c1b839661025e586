// Motion: an MP4 (H.264, yuv420p, optional AAC audio) from a template's timeline. Every still part
// of the design is rasterised once; ffmpeg then animates them in one filtergraph:
//
//   background (content outside layers + static layers below the first animated one)
//     -> overlay animated layer 1 (position by an expression of the frame's time, size set per
//        frame by a `sendcmd` script driving `scale`, opacity by `fade` or by one
//        `colorchannelmixer` per run of equal alpha, each enabled only for its frames)
//     -> overlay the next still run, the next animated layer, ... -> libx264
//
// The graph keeps to what FFmpeg 4.1 offers (the static build @ffmpeg-installer/ffmpeg ships):
// no time variable in `scale`, no commands to `colorchannelmixer`, no `[expr]` in `sendcmd`,
// no `whole_dur` in `apad`. So per-frame values are computed here (trackValue) and written out
// frame by frame; the same graph runs unchanged on newer builds.
//
// Each still is converted to YUV once and repeated by the `loop` filter, so no frame is decoded or
// colour-converted twice; the filtergraph costs little next to the encoder. Measured in
// `npm run bench:render`.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { lineSplitter } from '../core/lines.ts';
import { mediaTools, missingToolMessage } from './media-tools.ts';
import type { Box } from './platform-specs.ts';
import type { Ease, LayerTrack, Motion } from './template.ts';

/** One still image in paint order, with its designed place and, if animated, its keyframes. */
export interface PaintItem {
  name: string;
  /** Raw straight-alpha RGBA file of `place.width` x `place.height`. */
  file: string;
  place: Box;
  track?: LayerTrack;
}

/**
 * H.264 settings shared by motion renders and the encode-only baseline. The rate is constant
 * (x264 pads with filler data): an ad that is mostly still would otherwise come out far below the
 * platforms' minimum bitrate (TikTok rejects uploads under 516 kbps).
 */
export interface EncoderSettings {
  /** libx264 preset. Default `veryfast`. */
  preset: string;
  /** Bits per second. Default 2.5 Mbps: ample for text and graphics at 1080p. */
  bitrate: number;
}

export const DEFAULT_ENCODER: EncoderSettings = { preset: 'veryfast', bitrate: 2_500_000 };

function num(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(4).replace(/0+$/, '');
}

/** The easing curve applied to a segment's progress `u` (0..1), as an ffmpeg expression. */
export function easeExpr(ease: Ease, u: string): string {
  switch (ease) {
    case 'linear':
      return u;
    case 'in':
      return `(${u})*(${u})`;
    case 'out':
      return `(1-(1-(${u}))*(1-(${u})))`;
    case 'in-out':
      return `if(lt(${u},0.5),2*(${u})*(${u}),1-2*(1-(${u}))*(1-(${u})))`;
  }
}

/**
 * A keyframe track as an expression of time `t`: held before the first and after the last key,
 * eased between keys (each key's `ease` shapes the segment that ends at it).
 */
export function trackExpr<K extends { t: number; ease: Ease }>(
  keys: readonly K[],
  value: (k: K) => number,
  t = 't',
): string {
  const last = keys[keys.length - 1]!;
  let expr = num(value(last));
  for (let i = keys.length - 2; i >= 0; i--) {
    const a = keys[i]!;
    const b = keys[i + 1]!;
    const va = value(a);
    const vb = value(b);
    const seg =
      va === vb
        ? num(va)
        : `${num(va)}+(${num(vb - va)})*${easeExpr(b.ease, `(${t}-${num(a.t)})/${num(b.t - a.t)}`)}`;
    expr = `if(lt(${t},${num(b.t)}),${seg},${expr})`;
  }
  return `if(lt(${t},${num(keys[0]!.t)}),${num(value(keys[0]!))},${expr})`;
}

/** The easing curve applied to a segment's progress `u` (0..1): the same curves as easeExpr. */
export function ease(kind: Ease, u: number): number {
  switch (kind) {
    case 'linear':
      return u;
    case 'in':
      return u * u;
    case 'out':
      return 1 - (1 - u) * (1 - u);
    case 'in-out':
      return u < 0.5 ? 2 * u * u : 1 - 2 * (1 - u) * (1 - u);
  }
}

/** A keyframe track's value at time `t`: what trackExpr evaluates to there. */
export function trackValue<K extends { t: number; ease: Ease }>(
  keys: readonly K[],
  value: (k: K) => number,
  t: number,
): number {
  if (t < keys[0]!.t) return value(keys[0]!);
  for (let i = 0; i + 1 < keys.length; i++) {
    const a = keys[i]!;
    const b = keys[i + 1]!;
    if (t < b.t) return value(a) + (value(b) - value(a)) * ease(b.ease, (t - a.t) / (b.t - a.t));
  }
  return value(keys[keys.length - 1]!);
}

/**
 * A time between frame `k - 1` and frame `k` at `fps`, for a command or a window that must take
 * effect exactly at frame k: no frame's own timestamp lies on it, whatever the rounding.
 */
function beforeFrame(k: number, fps: number): string {
  return k <= 0 ? '0' : num((k - 0.5) / fps);
}

/** The last frame whose value may still change along `keys` (the one at or after the last key). */
function lastKeyFrame(keys: readonly { t: number }[], fps: number): number {
  return Math.max(0, Math.ceil(keys[keys.length - 1]!.t * fps));
}

/** A layer's scaled size for scale factor `s`: even, at least 2 px (yuv420p needs both). */
export function scaledSize(place: Box, s: number): { width: number; height: number } {
  const even = (v: number) => Math.max(2, Math.trunc(v / 2) * 2);
  return { width: even(place.width * s), height: even(place.height * s) };
}

/**
 * sendcmd lines that resize `scale@<target>` frame by frame along a scale track: one line at
 * each frame whose size differs from the previous frame's. The scale filter starts at `first`.
 */
export function scaleCommands(
  target: string,
  place: Box,
  keys: NonNullable<LayerTrack['scale']>,
  fps: number,
): { first: { width: number; height: number }; script: string } {
  const first = scaledSize(
    place,
    trackValue(keys, (k) => k.value, 0),
  );
  const lines: string[] = [];
  let prev = first;
  for (let k = 1; k <= lastKeyFrame(keys, fps); k++) {
    const size = scaledSize(
      place,
      trackValue(keys, (x) => x.value, k / fps),
    );
    if (size.width === prev.width && size.height === prev.height) continue;
    lines.push(
      `${beforeFrame(k, fps)} scale@${target} w ${size.width}, scale@${target} h ${size.height};`,
    );
    prev = size;
  }
  return { first, script: lines.join('\n') + '\n' };
}

/**
 * The alpha gain along an opacity track as `colorchannelmixer` steps, one per run of frames with
 * the same 8-bit alpha, each enabled only on its own frames (the timeline's `t` is the frame's
 * own time, so every frame gets exactly its value). Runs at full opacity need no step.
 */
export function opacitySteps(keys: NonNullable<LayerTrack['opacity']>, fps: number): string[] {
  const last = lastKeyFrame(keys, fps);
  // The 8-bit alpha of every frame up to the last key's; it holds from there on.
  const alphas = Array.from({ length: last + 1 }, (_, k) =>
    Math.round(trackValue(keys, (x) => x.value, k / fps) * 255),
  );
  const steps: string[] = [];
  let start = 0;
  for (let k = 1; k <= last + 1; k++) {
    const alpha = alphas[start]!;
    if (k <= last && alphas[k] === alpha) continue;
    if (alpha < 255) {
      // The run from the last key on holds to the end of the video.
      const window =
        k > last
          ? `gte(t,${beforeFrame(start, fps)})`
          : start === 0
            ? `lt(t,${beforeFrame(k, fps)})`
            : `gte(t,${beforeFrame(start, fps)})*lt(t,${beforeFrame(k, fps)})`;
      steps.push(`colorchannelmixer=aa=${num(alpha / 255)}:enable='${window}'`);
    }
    start = k;
  }
  return steps;
}

export interface MotionGraph {
  /** The -filter_complex script; its output pad is [v] (and [a] with audio). */
  filter: string;
  /** sendcmd scripts by file name, one per layer whose size is animated. */
  commands: Record<string, string>;
  /** Whether input `items.length` is the final still (see `finalStill`). */
  usesFinalStill: boolean;
}

/** When the last keyframe of any track is reached (0 when nothing animates). */
export function animationEnd(items: readonly PaintItem[]): number {
  let end = 0;
  for (const { track } of items)
    for (const keys of [track?.position, track?.scale, track?.opacity])
      if (keys) end = Math.max(end, keys[keys.length - 1]!.t);
  return end;
}

/** Whether every track ends where the design has the layer: in place, full size, opaque. */
export function endsAtRest(items: readonly PaintItem[]): boolean {
  return items.every(({ track }) => {
    const p = track?.position?.at(-1);
    const s = track?.scale?.at(-1);
    const o = track?.opacity?.at(-1);
    return (!p || (p.x === 0 && p.y === 0)) && (!s || s.value === 1) && (!o || o.value === 1);
  });
}

/**
 * An opacity track that only rises from 0 to 1 and/or then falls back to 0 compiles to ffmpeg's
 * `fade` on the alpha plane, which leaves frames untouched outside its interval; fade is linear, so
 * only linear keys take this path.
 */
function fadesFor(keys: NonNullable<LayerTrack['opacity']>): string[] | null {
  if (!keys.every((k) => (k.value === 0 || k.value === 1) && k.ease === 'linear')) return null;
  const fades: string[] = [];
  let rose = false;
  let fell = false;
  for (let i = 0; i + 1 < keys.length; i++) {
    const a = keys[i]!;
    const b = keys[i + 1]!;
    if (a.value === b.value) continue;
    const rising = b.value > a.value;
    if ((rising && (rose || fell)) || (!rising && fell)) return null;
    if (rising) rose = true;
    else fell = true;
    fades.push(`fade=t=${rising ? 'in' : 'out'}:st=${num(a.t)}:d=${num(b.t - a.t)}:alpha=1`);
  }
  return fades;
}

/** When the layer is visible at all, for overlay's `enable` (null: always). */
function visibleWindow(keys: LayerTrack['opacity']): string | null {
  if (!keys) return null;
  const firstVisible = keys.findIndex((k) => k.value > 0);
  if (firstVisible < 0) return 'lt(t,0)';
  const from = firstVisible === 0 ? null : keys[firstVisible - 1]!.t;
  const lastVisible = keys.findLastIndex((k) => k.value > 0);
  const to = lastVisible === keys.length - 1 ? null : keys[lastVisible + 1]!.t;
  if (from === null && to === null) return null;
  if (to === null) return `gte(t,${num(from!)})`;
  if (from === null) return `lte(t,${num(to)})`;
  return `between(t,${num(from)},${num(to)})`;
}

/**
 * The filtergraph for `items` in paint order (the first is the opaque background) on a
 * `width` x `height` canvas. Input i of ffmpeg is item i. When every track ends at rest and the
 * animation ends before the video does, input `items.length` is the final still (the whole
 * design, which the last animated frame equals) and the rest of the video repeats it without any
 * compositing. Audio, if any, is the next input.
 */
export function buildMotionGraph(
  items: readonly PaintItem[],
  canvas: { width: number; height: number },
  motion: Pick<Motion, 'fps' | 'duration'>,
  audio: { fadeOut: number } | null = null,
): MotionGraph {
  const { fps, duration } = motion;
  const hold = `loop=loop=-1:size=1:start=0,setpts=N/(${fps}*TB)`;
  // Whole frames, so the two parts of the video join without a gap.
  const animEnd = Math.min(duration, Math.ceil(animationEnd(items) * fps) / fps);
  const usesFinalStill = animEnd < duration && endsAtRest(items);
  const animated = usesFinalStill ? animEnd : duration;
  const chains: string[] = [];
  const commands: Record<string, string> = {};
  let base = 'b0';
  chains.push(`[0:v]format=yuv420p,${hold}[b0]`);
  items.slice(1).forEach((item, n) => {
    const i = n + 1;
    const { track, place } = item;
    const steps: string[] = [];
    const fades = track?.opacity ? fadesFor(track.opacity) : null;
    if (track?.opacity && !fades) {
      // colorchannelmixer works on RGB; the layer is converted to YUV after it, per frame.
      steps.push('format=rgba', hold, ...opacitySteps(track.opacity, fps), 'format=yuva420p');
    } else steps.push('format=yuva420p', hold, ...(fades ?? []));
    if (track?.scale) {
      const script = `scale-l${i}.txt`;
      const { first, script: lines } = scaleCommands(`l${i}`, place, track.scale, fps);
      commands[script] = lines;
      steps.push(`sendcmd=f=${script}`, `scale@l${i}=w=${first.width}:h=${first.height}`);
    }
    // Scaling keeps the layer's centre; position keys move it by fractions of the canvas.
    const dx = track?.position ? `+(${trackExpr(track.position, (k) => k.x * canvas.width)})` : '';
    const dy = track?.position ? `+(${trackExpr(track.position, (k) => k.y * canvas.height)})` : '';
    const cx = num(place.x + place.width / 2);
    const cy = num(place.y + place.height / 2);
    const visible = visibleWindow(track?.opacity);
    chains.push(`[${i}:v]${steps.join(',')}[l${i}]`);
    const out = `b${i}`;
    chains.push(
      `[${base}][l${i}]overlay=x='${cx}-w/2${dx}':y='${cy}-h/2${dy}':eval=frame:format=yuv420` +
        (visible ? `:enable='${visible}'` : '') +
        `[${out}]`,
    );
    base = out;
  });
  if (usesFinalStill) {
    const f = items.length;
    chains.push(`[${base}]trim=end=${num(animated)},format=yuv420p[va]`);
    chains.push(
      `[${f}:v]format=yuv420p,${hold},trim=duration=${num(duration - animated)},setpts=PTS-STARTPTS[vb]`,
    );
    chains.push(`[va][vb]concat=n=2:v=1:a=0[v]`);
  } else chains.push(`[${base}]trim=duration=${num(duration)},format=yuv420p[v]`);
  if (audio) {
    const a = items.length + (usesFinalStill ? 1 : 0);
    const fade = Math.min(audio.fadeOut, duration);
    chains.push(
      // Resampled to a known rate, so the pad to the video's length is a count of samples.
      `[${a}:a]atrim=0:${num(duration)},aresample=${AUDIO_RATE},` +
        `apad=whole_len=${Math.round(duration * AUDIO_RATE)}` +
        (fade > 0 ? `,afade=t=out:st=${num(duration - fade)}:d=${num(fade)}` : '') +
        `[a]`,
    );
  }
  return { filter: chains.join(';\n'), commands, usesFinalStill };
}

/** Sample rate of the audio track (AAC at 48 kHz, what the platforms' specs list). */
export const AUDIO_RATE = 48_000;

export function encoderArgs(enc: EncoderSettings, fps: number): string[] {
  return [
    '-c:v',
    'libx264',
    '-preset',
    enc.preset,
    '-b:v',
    String(enc.bitrate),
    '-minrate',
    String(enc.bitrate),
    '-maxrate',
    String(enc.bitrate),
    '-bufsize',
    String(enc.bitrate * 2),
    '-x264-params',
    'nal-hrd=cbr',
    '-pix_fmt',
    'yuv420p',
    '-r',
    String(fps),
    // Platforms start playback before the whole file has arrived.
    '-movflags',
    '+faststart',
  ];
}

/**
 * A raw RGBA still as an ffmpeg input, at the video's frame rate: rawvideo defaults to 25 fps,
 * whose coarser time base would make several frames share a timestamp and stutter the animation.
 */
function rawInput(item: { file: string; place: Box }, fps: number): string[] {
  return [
    '-f',
    'rawvideo',
    '-pixel_format',
    'rgba',
    '-video_size',
    `${item.place.width}x${item.place.height}`,
    '-framerate',
    String(fps),
    '-i',
    item.file,
  ];
}

export interface FfmpegRun {
  /** Called with the fraction done (0..1) as ffmpeg reports progress. */
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
}

/** Runs ffmpeg in `cwd`; a failure carries the end of its log. */
export function runFfmpeg(
  args: string[],
  cwd: string,
  durationSeconds: number,
  run: FfmpegRun = {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    const ffmpeg = mediaTools().ffmpeg;
    const child = spawn(
      ffmpeg.path,
      ['-hide_banner', '-nostats', '-loglevel', 'error', '-progress', 'pipe:1', '-y', ...args],
      { cwd, stdio: ['ignore', 'pipe', 'pipe'], signal: run.signal },
    );
    const log = lineSplitter(() => undefined);
    child.stderr.on('data', (d: Buffer) => log.push(d));
    const progress = lineSplitter((line) => {
      const m = /^out_time_us=(\d+)/.exec(line);
      if (m && run.onProgress)
        run.onProgress(Math.min(1, Number(m[1]) / 1e6 / Math.max(durationSeconds, 1e-3)));
    });
    child.stdout.on('data', (d: Buffer) => progress.push(d));
    child.on('error', (err) =>
      reject(
        (err as NodeJS.ErrnoException).code === 'ENOENT'
          ? new Error(missingToolMessage('ffmpeg', ffmpeg))
          : err,
      ),
    );
    child.on('close', (code) => {
      if (code === 0) resolve();
      else
        reject(
          new Error(
            `ffmpeg exited with ${code}: ${log.tail.trim().split('\n').slice(-5).join(' | ')}`,
          ),
        );
    });
  });
}

export interface MotionJob {
  items: PaintItem[];
  /** The whole design as a raw RGBA canvas-sized file: the frame the animation ends on. */
  finalStill: string;
  canvas: { width: number; height: number };
  motion: Pick<Motion, 'fps' | 'duration'>;
  audio?: { file: string; fadeOut: number } | null;
  encoder: EncoderSettings;
  /** Working directory for the scripts (the raw stills may live anywhere). */
  workDir: string;
  out: string;
}

export async function encodeMotion(job: MotionJob, run: FfmpegRun = {}): Promise<void> {
  const graph = buildMotionGraph(job.items, job.canvas, job.motion, job.audio ?? null);
  await fs.promises.writeFile(path.join(job.workDir, 'graph.txt'), graph.filter);
  for (const [name, text] of Object.entries(graph.commands))
    await fs.promises.writeFile(path.join(job.workDir, name), text);
  const fps = job.motion.fps;
  const args = job.items.flatMap((item) => rawInput(item, fps));
  if (graph.usesFinalStill)
    args.push(...rawInput({ file: job.finalStill, place: { x: 0, y: 0, ...job.canvas } }, fps));
  if (job.audio) args.push('-i', job.audio.file);
  args.push('-filter_complex_script', 'graph.txt', '-map', '[v]');
  if (job.audio) args.push('-map', '[a]', '-c:a', 'aac', '-b:a', '128k');
  args.push(
    '-frames:v',
    String(Math.round(job.motion.duration * job.motion.fps)),
    ...encoderArgs(job.encoder, job.motion.fps),
    job.out,
  );
  await runFfmpeg(args, job.workDir, job.motion.duration, run);
}

/**
 * The encode-only baseline: a single still encoded for `seconds` with the same encoder settings
 * and the same single-decode input path, i.e. what no renderer of that video can beat.
 */
export async function encodeStill(
  still: { file: string; place: Box },
  seconds: number,
  fps: number,
  encoder: EncoderSettings,
  workDir: string,
  out: string,
): Promise<void> {
  const args = [
    ...rawInput(still, fps),
    '-filter_complex',
    `[0:v]format=yuv420p,loop=loop=-1:size=1:start=0,setpts=N/(${fps}*TB)[v]`,
    '-map',
    '[v]',
    '-frames:v',
    String(Math.round(seconds * fps)),
    ...encoderArgs(encoder, fps),
    out,
  ];
  await runFfmpeg(args, workDir, seconds);
}

export interface VideoProbe {
  durationSeconds: number;
  bitrate: number;
  width: number;
  height: number;
  videoCodec: string;
  pixelFormat: string;
  hasAudio: boolean;
}

/** What ffprobe says about a rendered file, for QA. */
export function probeVideo(file: string): Promise<VideoProbe> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      mediaTools().ffprobe.path,
      [
        '-v',
        'error',
        '-show_entries',
        'format=duration,bit_rate:stream=codec_type,codec_name,pix_fmt,width,height',
        '-of',
        'json',
        file,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`ffprobe ${file}: ${err.trim()}`));
      const j = JSON.parse(out) as {
        format: { duration: string; bit_rate: string };
        streams: Array<{
          codec_type: string;
          codec_name: string;
          pix_fmt?: string;
          width?: number;
          height?: number;
        }>;
      };
      const v = j.streams.find((s) => s.codec_type === 'video');
      if (!v) return reject(new Error(`ffprobe ${file}: no video stream`));
      resolve({
        durationSeconds: Number(j.format.duration),
        bitrate: Number(j.format.bit_rate),
        width: v.width ?? 0,
        height: v.height ?? 0,
        videoCodec: v.codec_name,
        pixelFormat: v.pix_fmt ?? '',
        hasAudio: j.streams.some((s) => s.codec_type === 'audio'),
      });
    });
  });
}
