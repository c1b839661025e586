// The built-in renderer: a creative spec in, its assets (every requested aspect ratio, static
// and/or motion) out, each checked by QA and put into the content-addressed store. The creative's
// hash covers the renderer, the template version and design, the fonts and every input, so an
// identical creative is never rendered twice: an asset whose record is in the store is returned
// as it is, without rendering anything. With a nexrender server configured, the motion assets of
// templates that have an After Effects version (a `nexrender` section) render on that farm
// instead of ffmpeg, and are then checked and stored like any other.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../core/config.ts';
import { REDACTED, redactUrl } from '../core/redact.ts';
import {
  colorValues,
  CreativeInputError,
  readSourceImage,
  type ComposeInputs,
  type SourceImage,
} from './compose.ts';
import { checkMediaTools } from './media-tools.ts';
import {
  loadFontManifest,
  missingCodepoints,
  useManifestFonts,
  type FontManifest,
} from './fonts.ts';
import { DEFAULT_ENCODER, probeVideo, type EncoderSettings } from './motion.ts';
import { NexrenderJobError, renderWithNexrender } from './nexrender.ts';
import { PLATFORMS, PLATFORM_SPECS, type Platform } from './platform-specs.ts';
import {
  checkCreative,
  LARGE_TEXT_PX,
  MAX_UPSCALE,
  MIN_CONTRAST,
  type QaReport,
  type QaSubject,
} from './qa.ts';
import {
  ratioFileStem,
  type AspectRatio,
  type CreativeAsset,
  type CreativeKind,
  type CreativeSpec,
} from './spec.ts';
import { createCreativeStore, type CreativeStore, type CreativeStoreConfig } from './storage.ts';
import {
  loadTemplateLibrary,
  TemplateError,
  type Template,
  type TemplateLibrary,
} from './template.ts';
import { composeVariant, renderMotion, renderStatic, type ComposedVariant } from './variant.ts';

/**
 * Bump when a change to the renderer changes pixels: every creative then renders anew. 3: motion
 * encoded by the npm-shipped FFmpeg 4.1 with per-frame sizes and alphas.
 */
export const RENDERER_VERSION = 3;

export interface RendererDeps {
  library: TemplateLibrary;
  fonts: FontManifest;
  store: CreativeStore;
  /** Scratch space for renders in progress. Default the OS temp dir. */
  workDir?: string;
  encoder?: EncoderSettings;
  /**
   * A nexrender server (After Effects render farm). When set, motion assets of templates whose
   * `nexrender` section has a composition for the ratio render there instead of with ffmpeg.
   * Default unset: everything renders with the built-in renderer.
   */
  nexrender?: NexrenderDeps;
}

export interface NexrenderDeps {
  /** Server base URL, e.g. `http://render-farm:3050`. */
  host: string;
  /** The server's `nexrender-secret`. Default none (a server started without one). */
  secret?: string;
  /**
   * Folder the finished MP4s are copied to. It must be the same path on the nexrender workers
   * and on this machine (a shared volume): the renderer reads the video from there.
   */
  outputDir: string;
  /** Delay between polls of the job (each one also reports progress). Default 5000 ms. */
  pollMs?: number;
  /** How long to wait for a job to finish before failing the asset. Default 30 minutes. */
  timeoutMs?: number;
}

export interface RenderProgress {
  ratio: AspectRatio;
  kind: CreativeKind;
  /** 0..1 within this asset. */
  fraction: number;
  done: number;
  total: number;
}

export interface RenderOptions {
  /** Called as assets start, progress and finish: activities heartbeat with it. */
  onProgress?: (p: RenderProgress) => void;
  signal?: AbortSignal;
}

/** One asset and its QA report, as stored next to it. */
export interface AssetRecord {
  asset: CreativeAsset;
  qa: QaReport;
  /** Milliseconds it took to render and check (0 when it came from the cache). */
  renderMs: number;
}

export interface RenderOutcome {
  hash: string;
  assets: AssetRecord[];
  /** Assets rendered now, and assets found in the store. */
  rendered: number;
  cached: number;
}

function sha256(s: string | Buffer): string {
  return createHash('sha256').update(s).digest('hex');
}

/** Everything that determines a creative's pixels, in a canonical order. */
export function creativeHash(
  spec: CreativeSpec,
  template: Template,
  fonts: FontManifest,
  images: Record<string, SourceImage>,
  audioSha256: string | null,
): string {
  const sorted = (r: Record<string, string>) =>
    Object.keys(r)
      .sort()
      .map((k) => [k, r[k]]);
  const canonical = JSON.stringify({
    renderer: RENDERER_VERSION,
    template: [template.id, template.version, template.sourceHash],
    fonts: fonts.hash,
    language: spec.language,
    direction: spec.direction,
    text: sorted(spec.text),
    colors: sorted(spec.colors),
    images: Object.keys(images)
      .sort()
      .map((k) => [k, images[k]!.sha256]),
    audio: audioSha256,
    staticFormat: spec.staticFormat,
  });
  return sha256(canonical).slice(0, 24);
}

/**
 * Which renderer made a motion asset: `ae` for After Effects on a nexrender farm. Part of the
 * asset's key, so switching the farm on or off renders anew instead of reusing the other's video.
 */
export type MotionEngine = 'builtin' | 'ae';

function assetStem(ratio: AspectRatio, kind: CreativeKind, engine: MotionEngine) {
  return `${ratioFileStem(ratio)}-${kind}${kind === 'motion' && engine === 'ae' ? '-ae' : ''}`;
}

export function assetKey(
  hash: string,
  ratio: AspectRatio,
  kind: CreativeKind,
  format: string,
  engine: MotionEngine = 'builtin',
) {
  const ext = format === 'jpeg' ? 'jpg' : format;
  return `${hash}/${assetStem(ratio, kind, engine)}.${ext}`;
}

/**
 * The QA rules records were checked under: the platform specs and the check thresholds. A record
 * of other rules is not reused (its verdict may no longer hold): the asset is rendered and checked
 * again. Bump QA_RULES when a check's logic changes.
 */
const QA_RULES = 1;
export const QA_VERSION = createHash('sha256')
  .update(JSON.stringify({ QA_RULES, PLATFORM_SPECS, MIN_CONTRAST, LARGE_TEXT_PX, MAX_UPSCALE }))
  .digest('hex')
  .slice(0, 8);

/**
 * The record stored next to each asset (its facts and QA report), written after the asset, so
 * its presence means both are there; named by the QA rules it was checked under.
 */
function recordKey(hash: string, ratio: AspectRatio, kind: CreativeKind, engine: MotionEngine) {
  return `${hash}/${assetStem(ratio, kind, engine)}.qa-${QA_VERSION}.json`;
}

const CONTENT_TYPES: Record<string, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  mp4: 'video/mp4',
};

/** Checks a spec against its template before anything is read or rendered. */
export function validateSpec(spec: CreativeSpec, template: Template): void {
  const where = `creative spec for template "${template.id}"`;
  if (spec.templateVersion !== template.version)
    throw new TemplateError(
      `${where}: template version ${spec.templateVersion} requested, the library has ${template.version}`,
    );
  // A spec that does not fit its template will not fit on retry either.
  const bad = (why: string) => new CreativeInputError(`${where}: ${why}`);
  for (const [slot, def] of Object.entries(template.slots)) {
    if (def.type === 'text' && typeof spec.text[slot] !== 'string')
      throw bad(`text slot "${slot}" has no text`);
    if (def.type === 'text' && spec.text[slot]!.trim() === '')
      throw bad(`text slot "${slot}" is blank`);
    if (def.type === 'image' && !spec.images[slot]) throw bad(`image slot "${slot}" has no image`);
  }
  for (const slot of [
    ...Object.keys(spec.text),
    ...Object.keys(spec.images),
    ...Object.keys(spec.colors),
  ])
    if (!template.slots[slot]) throw bad(`"${slot}" is not a slot of the template`);
  for (const [slot, color] of Object.entries(spec.colors))
    if (!/^#[0-9a-fA-F]{6}$/.test(color))
      throw bad(`colour slot "${slot}" is "${color}", expected #rrggbb`);
  if (spec.ratios.length === 0 || spec.kinds.length === 0)
    throw bad('no aspect ratio or kind requested');
}

/** The QA subject of a composed variant: its texts, images and background. */
async function qaSubject(
  c: ComposedVariant,
  fonts: FontManifest,
  asset: Pick<QaSubject, 'ratio' | 'kind' | 'format' | 'bytes'> & Partial<QaSubject>,
): Promise<QaSubject> {
  const { variant } = c;
  const bg = await c.background();
  return {
    width: variant.width,
    height: variant.height,
    ...asset,
    texts: [...c.texts.entries()].map(([slot, t]) => {
      const style = variant.text[slot]!;
      const text = c.inputs.text[slot] ?? '';
      return {
        slot,
        text,
        box: t.box,
        ink: t.ink,
        fontSizePx: t.sizePx,
        minFontSizePx: style.minSize,
        bold: style.weight === 700,
        fits: t.fits,
        color: t.color,
        fontFamilies: style.font,
        missingCodepoints: missingCodepoints(fonts, style.font, style.weight, text),
      };
    }),
    images: Object.entries(variant.images).map(([slot, size]) => {
      const img = c.inputs.images[slot]!;
      return {
        slot,
        sourceWidth: img.width,
        sourceHeight: img.height,
        drawnWidth: size.width,
        drawnHeight: size.height,
      };
    }),
    background: bg,
  };
}

/**
 * The nexrender job uid of a creative's motion asset at a ratio: `adloop-<creative hash>-<ratio
 * stem>`, e.g. `adloop-0123456789abcdef01234567-9x16`. Deterministic, so a retried activity finds
 * the job its first attempt submitted and waits for it instead of rendering it again. Only
 * `[A-Za-z0-9_-]`: the server routes `/jobs/:uid` (url-pattern accepts `a-zA-Z0-9-_~ %` in a
 * segment, so no `:` or `.`) and workers name the job's working folder after it.
 */
export function nexrenderUid(hash: string, ratio: AspectRatio): string {
  return `adloop-${hash}-${ratioFileStem(ratio)}`;
}

const COPY_ACTION = '@nexrender/action-copy';

/**
 * Renders `spec`'s motion asset at `ratio` on the nexrender farm and copies the MP4 to `out`.
 * Errors name the template and ratio; a job the farm failed also carries the worker's error text.
 */
async function renderMotionOnNexrender(
  spec: CreativeSpec,
  template: Template,
  ratio: AspectRatio,
  nx: NexrenderDeps,
  o: {
    uid: string;
    out: string;
    progress: (fraction: number) => void;
    signal: AbortSignal | undefined;
  },
): Promise<void> {
  const what = `template "${template.id}" v${template.version} at ${ratio}`;
  let fraction = 0;
  let result: Awaited<ReturnType<typeof renderWithNexrender>>;
  try {
    result = await renderWithNexrender(spec, template.nexrender!, ratio, {
      host: nx.host,
      secret: nx.secret,
      outputDir: nx.outputDir,
      uid: o.uid,
      pollMs: nx.pollMs,
      timeoutMs: nx.timeoutMs,
      // Called on every poll, so the activity heartbeats while the job waits in the queue too.
      onProgress: (_state, renderProgress) => {
        fraction = Math.max(fraction, Math.min(1, Math.max(0, renderProgress / 100)));
        o.progress(fraction);
      },
      signal: o.signal,
    });
  } catch (err) {
    if (o.signal?.aborted) throw err;
    if (err instanceof NexrenderJobError)
      throw new Error(`nexrender failed to render ${what} (job ${err.uid}): ${err.errorText}`, {
        cause: err,
      });
    throw new Error(`nexrender could not render ${what}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  // Where the job's copy action put the video: a job an earlier attempt submitted (same uid) may
  // have been built with another output folder than this one.
  const copy = result.job.actions?.postrender?.find((a) => a.module === COPY_ACTION);
  const produced = typeof copy?.output === 'string' ? copy.output : result.file;
  try {
    await fs.promises.copyFile(produced, o.out);
  } catch (err) {
    throw new Error(
      `nexrender job ${o.uid} for ${what} finished, but its video ${produced} cannot be read here ` +
        `(${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); NEXRENDER_OUTPUT_DIR ` +
        `must be the same folder on the nexrender workers and the render workers`,
      { cause: err },
    );
  }
}

/** Bitrate for motion: the default, within what every platform accepts and recommends. */
function encoderFor(base: EncoderSettings): EncoderSettings {
  const floor = Math.max(...PLATFORMS.map((p) => PLATFORM_SPECS[p].video.minBitrate));
  const ceiling = Math.min(...PLATFORMS.map((p) => PLATFORM_SPECS[p].encoderMaxBitrate));
  // 20% above the strictest floor: the average of a constant-rate stream dips a little at the end.
  return { ...base, bitrate: Math.min(ceiling, Math.max(base.bitrate, Math.ceil(floor * 1.2))) };
}

/**
 * Renders whatever of `spec` is not in the store yet, checks each new asset, and stores it with
 * its QA record. Returns every requested asset with its QA report.
 */
export async function renderCreative(
  spec: CreativeSpec,
  deps: RendererDeps,
  opts: RenderOptions = {},
): Promise<RenderOutcome> {
  const template = deps.library.get(spec.templateId);
  validateSpec(spec, template);
  useManifestFonts(deps.fonts);
  const images: Record<string, SourceImage> = {};
  for (const [slot, file] of Object.entries(spec.images))
    images[slot] = await readSourceImage(file, slot);
  const audioSlot = Object.values(template.slots).find((s) => s.type === 'audio');
  const audio = spec.audio && audioSlot ? spec.audio : null;
  const audioFadeOut = audioSlot?.type === 'audio' ? audioSlot.fadeOut : 1;
  const audioSha = audio ? sha256(await fs.promises.readFile(audio)) : null;
  const hash = creativeHash(spec, template, deps.fonts, images, audioSha);
  const inputs: ComposeInputs = {
    text: spec.text,
    images,
    colors: colorValues(template, spec.colors),
    direction: spec.direction,
  };

  const wanted = spec.ratios.flatMap((ratio) => spec.kinds.map((kind) => ({ ratio, kind })));
  const records: AssetRecord[] = [];
  let rendered = 0;
  let cached = 0;
  const composed = new Map<AspectRatio, Promise<ComposedVariant>>();
  const compose = (ratio: AspectRatio) => {
    let c = composed.get(ratio);
    if (!c) {
      c = composeVariant(template, template.variants[ratio], inputs);
      composed.set(ratio, c);
    }
    return c;
  };
  const scratch = await fs.promises.mkdtemp(
    path.join(deps.workDir ?? os.tmpdir(), `adloop-render-${hash}-`),
  );
  const encoder = encoderFor(deps.encoder ?? DEFAULT_ENCODER);
  try {
    let done = 0;
    const one = async ({ ratio, kind }: { ratio: AspectRatio; kind: CreativeKind }) => {
      opts.signal?.throwIfAborted();
      const progress = (fraction: number) =>
        opts.onProgress?.({ ratio, kind, fraction, done, total: wanted.length });
      const engine: MotionEngine =
        kind === 'motion' && deps.nexrender && template.nexrender?.compositions[ratio]
          ? 'ae'
          : 'builtin';
      const rKey = recordKey(hash, ratio, kind, engine);
      if (await deps.store.head(rKey)) {
        const stored = JSON.parse((await deps.store.get(rKey)).toString('utf8')) as AssetRecord;
        cached++;
        done++;
        return { ...stored, renderMs: 0 };
      }
      progress(0);
      const started = performance.now();
      const c = await compose(ratio);
      const format = kind === 'static' ? spec.staticFormat : 'mp4';
      const key = assetKey(hash, ratio, kind, format, engine);
      const file = path.join(scratch, path.basename(key));
      let subject: QaSubject;
      if (kind === 'static') {
        const bytes = await renderStatic(c, spec.staticFormat);
        await fs.promises.writeFile(file, bytes);
        subject = await qaSubject(c, deps.fonts, { ratio, kind, format, bytes: bytes.length });
      } else {
        if (engine === 'ae' && deps.nexrender) {
          // The spec as the built-in renderer reads it: every colour slot (defaults filled in)
          // and the audio only when the template has an audio slot.
          const filled: CreativeSpec = { ...spec, colors: inputs.colors, audio };
          await renderMotionOnNexrender(filled, template, ratio, deps.nexrender, {
            uid: nexrenderUid(hash, ratio),
            out: file,
            progress,
            signal: opts.signal,
          });
        } else {
          await renderMotion(c, {
            encoder,
            workDir: path.join(scratch, `${ratioFileStem(ratio)}-motion`),
            out: file,
            audio: audio ? { file: audio, fadeOut: audioFadeOut } : null,
            run: { onProgress: progress, signal: opts.signal },
          });
        }
        const probe = await probeVideo(file);
        const { size } = await fs.promises.stat(file);
        subject = await qaSubject(c, deps.fonts, {
          ratio,
          kind,
          format,
          bytes: size,
          width: probe.width,
          height: probe.height,
          durationSeconds: probe.durationSeconds,
          bitrate: probe.bitrate,
          videoCodec: probe.videoCodec,
          pixelFormat: probe.pixelFormat,
        });
      }
      const qa = checkCreative(subject, PLATFORMS);
      const stored = await deps.store.put(key, file, CONTENT_TYPES[format]!);
      const asset: CreativeAsset = {
        ratio,
        kind,
        format,
        key,
        uri: stored.uri,
        width: subject.width,
        height: subject.height,
        bytes: stored.bytes,
        ...(kind === 'motion'
          ? { durationSeconds: subject.durationSeconds, bitrate: subject.bitrate }
          : {}),
      };
      const record: AssetRecord = { asset, qa, renderMs: Math.round(performance.now() - started) };
      const recordFile = path.join(scratch, path.basename(rKey));
      await fs.promises.writeFile(recordFile, JSON.stringify(record, null, 2));
      await deps.store.put(rKey, recordFile, 'application/json');
      rendered++;
      done++;
      progress(1);
      return record;
    };
    // Statics are short and mostly single-threaded: all ratios at once. A motion render keeps
    // every core busy (ffmpeg), so they run one after another.
    const statics = await Promise.all(wanted.filter((w) => w.kind === 'static').map(one));
    const motions: AssetRecord[] = [];
    for (const w of wanted.filter((w) => w.kind === 'motion')) motions.push(await one(w));
    const byKey = new Map(
      [...statics, ...motions].map((r) => [`${r.asset.ratio}/${r.asset.kind}`, r]),
    );
    for (const w of wanted) records.push(byKey.get(`${w.ratio}/${w.kind}`)!);
  } finally {
    await fs.promises.rm(scratch, { recursive: true, force: true });
  }
  return { hash, assets: records, rendered, cached };
}

/** Platforms every asset of the creative may be deployed to (its QA passed there). */
export function deployablePlatforms(records: readonly AssetRecord[]): Platform[] {
  return PLATFORMS.filter((p) => records.some((r) => r.qa.platforms[p]));
}

/** Checks that every font a template names is in the fonts manifest. */
export function checkTemplateFonts(library: TemplateLibrary, fonts: FontManifest): void {
  const known = new Set(fonts.families.map((f) => f.name));
  const problems: string[] = [];
  for (const t of library.templates)
    for (const v of Object.values(t.variants))
      for (const [slot, style] of Object.entries(v.text))
        for (const f of style.font)
          if (!known.has(f))
            problems.push(
              `template "${t.id}" variants.${v.ratio}.text.${slot}.font: "${f}" is not in ${fonts.file}`,
            );
  if (problems.length) throw new Error(problems.join('\n'));
}

export type RendererConfig = CreativeStoreConfig & {
  TEMPLATES_DIR: string;
  FONTS_MANIFEST: string;
  /** A nexrender server for motion of templates with a `nexrender` section. Default unset. */
  NEXRENDER_URL?: string;
  /** Its secret. Default none. */
  NEXRENDER_SECRET?: string;
  /** Required with NEXRENDER_URL: the folder shared with the nexrender workers. */
  NEXRENDER_OUTPUT_DIR?: string;
};

/** The nexrender settings of a config, checked; undefined when NEXRENDER_URL is not set. */
function nexrenderDeps(config: RendererConfig): NexrenderDeps | undefined {
  if (!config.NEXRENDER_URL) return undefined;
  const invalid = (key: string, why: string) =>
    new ConfigError(`invalid configuration:\n  ${key}: ${why}`);
  let url: URL | undefined;
  try {
    url = new URL(config.NEXRENDER_URL);
  } catch {
    // Not echoed: a URL may carry credentials.
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    throw invalid('NEXRENDER_URL', 'expected an http(s) URL');
  // Credentials in the URL would reach error messages (fetch names the URL it failed on), and
  // from there workflow histories: the secret belongs in NEXRENDER_SECRET.
  if (url.username || url.password)
    throw invalid('NEXRENDER_URL', 'must not carry credentials; set NEXRENDER_SECRET instead');
  const outputDir = config.NEXRENDER_OUTPUT_DIR;
  if (!outputDir)
    throw invalid(
      'NEXRENDER_OUTPUT_DIR',
      'required when NEXRENDER_URL is set: a folder the nexrender workers copy finished videos ' +
        'to, at the same path on them and on this machine',
    );
  if (!fs.statSync(outputDir, { throwIfNoEntry: false })?.isDirectory())
    throw invalid('NEXRENDER_OUTPUT_DIR', `not a folder: ${outputDir}`);
  const nx: NexrenderDeps = { host: config.NEXRENDER_URL, outputDir };
  if (config.NEXRENDER_SECRET) nx.secret = config.NEXRENDER_SECRET;
  // Logging or serialising the deps shows no secret. Own enumerable properties, so a copy
  // (`{ ...deps.nexrender, pollMs }`) keeps both the secret and its redaction.
  Object.assign(nx, { toJSON: redactedNexrender, [INSPECT]: redactedNexrender });
  return nx;
}

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/** Nexrender settings as logs and JSON show them: no secret, no credentials in the URL. */
function redactedNexrender(this: NexrenderDeps) {
  return {
    host: redactUrl(this.host),
    outputDir: this.outputDir,
    ...(this.secret ? { secret: REDACTED } : {}),
    ...(this.pollMs !== undefined ? { pollMs: this.pollMs } : {}),
    ...(this.timeoutMs !== undefined ? { timeoutMs: this.timeoutMs } : {}),
  };
}

/** Templates, fonts, the store and the nexrender farm, loaded and cross-checked once when a worker starts. */
export function loadRenderer(config: RendererConfig): RendererDeps {
  checkMediaTools();
  const nexrender = nexrenderDeps(config);
  const library = loadTemplateLibrary(config.TEMPLATES_DIR);
  const fonts = loadFontManifest(config.FONTS_MANIFEST);
  checkTemplateFonts(library, fonts);
  useManifestFonts(fonts);
  return {
    library,
    fonts,
    store: createCreativeStore(config),
    ...(nexrender ? { nexrender } : {}),
  };
}
