// nexrender adapter: renders a CreativeSpec with an After Effects template on a nexrender farm
// instead of adloop's own renderer. The job is built here (pure, deterministic), submitted to a
// nexrender server and polled until a worker finishes or fails it. Workers run elsewhere (After
// Effects needs Windows or macOS), so every path in the job (images, audio, the output directory)
// must be valid on the worker's machine, for example a shared volume. Text direction is only
// recorded in the job's tags: an After Effects template sets paragraph direction in the project.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { redactUrl } from '../core/redact.ts';
import { createClient } from '@nexrender/api';
import type { Client } from '@nexrender/api';
import { create, validate } from '@nexrender/types/job.js';
import type { Job, JobAction, JobAsset, JobTemplate } from '@nexrender/types/job.js';
import { ratioFileStem } from './spec.ts';
import type { AspectRatio, CreativeSpec } from './spec.ts';

export type { Job as NexrenderJob } from '@nexrender/types/job.js';

export interface NexrenderTemplate {
  /** URL of the .aep project (`file://` or `http(s)://`), as the worker will fetch it. */
  src: string;
  /** Composition to render per aspect ratio; a ratio without one cannot be rendered. */
  compositions: Partial<Record<AspectRatio, string>>;
  /**
   * Slot name -> After Effects layer name. Default (omitted): every slot fills the layer of the
   * same name. When given it is the template's complete slot list: a spec slot it does not name
   * (or names as '') is an error at build time, not a layer After Effects misses minutes later.
   */
  layers?: Record<string, string>;
  /**
   * Property a colour slot sets on its layer. Default `Effects.Fill.Color`: the template recolours
   * a layer by giving it After Effects' built-in Fill effect, which works on any layer type.
   */
  colorProperty?: string;
  /**
   * After Effects output module template. Default `H.264 - Match Render Settings - 15 Mbps`, built
   * into After Effects 2023 and later; older versions need a custom template of that name.
   */
  outputModule?: string;
  /** Extension of what the output module writes. Default `mp4`. */
  outputExt?: string;
}

export interface BuildNexrenderJobOptions {
  /** Directory on the worker's machine the final MP4 is copied to. */
  outputDir: string;
  /** Job uid. Default: a random one from @nexrender/types. Pass one to make submission idempotent. */
  uid?: string;
}

const ENCODE_MODULE = '@nexrender/action-encode';
const COPY_MODULE = '@nexrender/action-copy';
const DEFAULT_COLOR_PROPERTY = 'Effects.Fill.Color';
const DEFAULT_OUTPUT_MODULE = 'H.264 - Match Render Settings - 15 Mbps';
// Relative to the job's working directory on the worker; the copy action picks it up from there.
const ENCODED_FILE = 'encoded.mp4';

function label(spec: CreativeSpec, ratio: AspectRatio): string {
  return `template "${spec.templateId}" v${spec.templateVersion} (ratio ${ratio})`;
}

/** `#rrggbb` -> [r, g, b] in 0..1, the form After Effects colour properties take. */
function colorToRgb(hex: string): [number, number, number] | null {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) return null;
  return [m[1], m[2], m[3]].map((h) => parseInt(h ?? '', 16) / 255) as [number, number, number];
}

/** JSON with object keys sorted, so equal values always hash equally. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Keeps file names and comma-separated tags well-formed whatever an id contains. */
function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '_');
}

/**
 * The nexrender job that renders `spec` at `ratio` with `template` and copies an H.264 MP4 to
 * `<outputDir>/<template>-v<version>-<language>-<ratio>-<hash>.mp4`. The hash covers every input
 * of the job (file paths as given, not their contents), so the same inputs give the same job and
 * file name; only the uid is random unless passed. Throws if the template cannot render the spec.
 */
export function buildNexrenderJob(
  spec: CreativeSpec,
  template: NexrenderTemplate,
  ratio: AspectRatio,
  opts: BuildNexrenderJobOptions,
): Job {
  return buildJob(spec, template, ratio, opts).job;
}

function buildJob(
  spec: CreativeSpec,
  template: NexrenderTemplate,
  ratio: AspectRatio,
  opts: BuildNexrenderJobOptions,
): { job: Job; output: string } {
  const what = label(spec, ratio);
  const composition = template.compositions[ratio];
  if (!composition) throw new Error(`${what} has no composition for ratio ${ratio}`);

  const layerFor = (kind: string, slot: string): string => {
    // hasOwn: a slot named like an Object method (`toString`) must not find the prototype's.
    const { layers } = template;
    const layer = layers ? (Object.hasOwn(layers, slot) ? layers[slot] : undefined) : slot;
    if (!layer) throw new Error(`${what} maps no layer to ${kind} slot "${slot}"`);
    return layer;
  };

  const assets: JobAsset[] = [];
  for (const [slot, value] of Object.entries(spec.text)) {
    assets.push({
      type: 'data',
      layerName: layerFor('text', slot),
      property: 'Source Text',
      value,
    });
  }
  for (const [slot, file] of Object.entries(spec.images)) {
    // Resolved here so a relative path means what it meant to the caller, not to the worker.
    const src = pathToFileURL(path.resolve(file)).href;
    assets.push({ type: 'image', src, layerName: layerFor('image', slot) });
  }
  for (const [slot, hex] of Object.entries(spec.colors)) {
    const rgb = colorToRgb(hex);
    if (!rgb) throw new Error(`${what}: colour slot "${slot}" is not #rrggbb: "${hex}"`);
    assets.push({
      type: 'data',
      layerName: layerFor('colour', slot),
      property: template.colorProperty ?? DEFAULT_COLOR_PROPERTY,
      value: rgb,
    });
  }
  if (spec.audio) {
    assets.push({
      type: 'audio',
      src: pathToFileURL(path.resolve(spec.audio)).href,
      layerName: 'audio',
    });
  }

  const jobTemplate: JobTemplate = {
    src: template.src,
    composition,
    outputModule: template.outputModule ?? DEFAULT_OUTPUT_MODULE,
    outputExt: template.outputExt ?? 'mp4',
  };
  const identity = {
    templateId: spec.templateId,
    templateVersion: spec.templateVersion,
    language: spec.language,
    direction: spec.direction,
    ratio,
  };
  const hash = createHash('sha256')
    .update(canonicalJson({ ...identity, template: jobTemplate, assets }))
    .digest('hex')
    .slice(0, 16);
  const name = [
    slug(spec.templateId),
    `v${spec.templateVersion}`,
    slug(spec.language),
    ratioFileStem(ratio),
    hash,
  ].join('-');
  // Joined by hand: this is a path on the worker, which may not share this machine's separator.
  const output = `${opts.outputDir.replace(/[\\/]+$/, '')}/${name}.mp4`;

  const postrender: JobAction[] = [
    // Re-encoding gives every farm the same codec settings whatever the output module did.
    { module: ENCODE_MODULE, preset: 'mp4', output: ENCODED_FILE },
    { module: COPY_MODULE, input: ENCODED_FILE, output },
  ];
  const job = create({
    ...(opts.uid ? { uid: opts.uid } : {}),
    // What the creative is, readable in nexrender's own listings and logs.
    tags: [
      'adloop',
      `template:${slug(spec.templateId)}`,
      `version:${spec.templateVersion}`,
      `lang:${slug(spec.language)}`,
      `dir:${spec.direction}`,
      `ratio:${ratioFileStem(ratio)}`,
      `creative:${hash}`,
    ].join(','),
    template: jobTemplate,
    assets,
    actions: { prerender: [], postrender },
  });
  try {
    validate(job);
  } catch (err) {
    throw new Error(`nexrender job for ${what} is invalid: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return { job, output };
}

/** A worker reported the job failed; retrying the same job will most likely fail the same way. */
export class NexrenderJobError extends Error {
  constructor(
    readonly uid: string,
    readonly errorText: string,
  ) {
    super(`nexrender job ${uid} failed: ${errorText}`);
    this.name = 'NexrenderJobError';
  }
}

export interface NexrenderClientOptions {
  /** Server base URL, e.g. `http://render-farm:3050`. */
  host: string;
  /** The server's `nexrender-secret`. Default: none (a server started without one). */
  secret?: string;
}

export interface WaitForJobOptions {
  /** Delay between polls. Default 5000 ms. */
  pollMs?: number;
  /** Give up after this long. Default 30 minutes. */
  timeoutMs?: number;
  /**
   * Called after every poll (not only on changes), so a Temporal activity can heartbeat from it.
   * `renderProgress` is 0..100 and only meaningful in state `render:dorender`.
   */
  onProgress?: (state: string, renderProgress: number) => void;
  /** Stops waiting (the job itself keeps running on the farm). */
  signal?: AbortSignal;
}

// node-fetch (used by @nexrender/api) reports network failures as FetchError type `system`, and
// a 2xx answer without JSON as type `invalid-json`; the server answers an unknown uid that way.
function fetchErrorType(err: unknown): string | undefined {
  if (err instanceof Error && err.name === 'FetchError') {
    const type = (err as { type?: unknown }).type;
    return typeof type === 'string' ? type : undefined;
  }
  return undefined;
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}

/** Client for a nexrender server. The secret is kept private: not logged, not in errors. */
export class NexrenderClient {
  readonly host: string;
  readonly #secret: string | undefined;
  // @nexrender/api's client object carries the secret as a plain property, so keep it private
  // too: inspecting this client must not print it.
  readonly #api: Client;

  constructor({ host, secret }: NexrenderClientOptions) {
    let url: URL;
    try {
      url = new URL(host);
    } catch {
      throw new Error(`nexrender host is not a URL: "${host}"`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new Error(`nexrender host must be http(s): "${url.origin}"`);
    // fetch names the URL it failed on in its errors, which reach logs and workflow histories.
    if (url.username || url.password)
      throw new Error('nexrender host must not carry credentials; pass the secret instead');
    // @nexrender/api appends `/api/v1/...` to the host as given.
    this.host = host.replace(/\/+$/, '');
    this.#secret = secret;
    this.#api = createClient({ host: this.host, secret });
  }

  /** The host without any credentials, for messages. */
  get #where(): string {
    return redactUrl(this.host);
  }

  /** Queues the job on the server and returns its uid. */
  async submit(job: Job): Promise<string> {
    // A plain POST rather than @nexrender/api's addJob: addJob starts a poller that only stops
    // when the job finishes or errors, which leaks a timer per timed-out job and crashes the
    // process (unhandled 'error' event) when a job fails and nobody listens.
    let res: Response;
    try {
      res = await fetch(`${this.host}/api/v1/jobs`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(this.#secret ? { 'nexrender-secret': this.#secret } : {}),
        },
        body: JSON.stringify(job),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      const reason = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
      throw new Error(`could not submit nexrender job ${job.uid} to ${this.#where}: ${reason}`, {
        cause: err,
      });
    }
    const text = await res.text();
    if (!res.ok) {
      // The server answers a failed validation with a stack trace: its first line says why.
      throw new Error(
        `nexrender server ${this.#where} refused job ${job.uid} (HTTP ${res.status}): ${firstLine(text)}`,
      );
    }
    const created = JSON.parse(text) as Partial<Job>;
    if (typeof created.uid !== 'string')
      throw new Error(`nexrender server ${this.#where} answered a job without uid`);
    return created.uid;
  }

  /** Removes a job from the server (a failed one, before it is submitted again). */
  async remove(uid: string): Promise<void> {
    const res = await fetch(`${this.host}/api/v1/jobs/${encodeURIComponent(uid)}`, {
      method: 'DELETE',
      headers: this.#secret ? { 'nexrender-secret': this.#secret } : {},
    });
    if (!res.ok && res.status !== 404)
      throw new Error(
        `nexrender server ${this.#where} refused to remove job ${uid} (HTTP ${res.status})`,
      );
  }

  /** The job as the server has it, or null if it has none with that uid. */
  async getJob(uid: string): Promise<Job | null> {
    try {
      const job = await this.#api.fetchJob(uid);
      // Newer servers may answer with an empty object or null rather than an empty body.
      return job && typeof job.uid === 'string' ? job : null;
    } catch (err) {
      if (fetchErrorType(err) === 'invalid-json') return null;
      if (fetchErrorType(err) === 'system') throw err;
      throw new Error(
        `nexrender server ${this.#where} refused to return job ${uid}: ${firstLine((err as Error).message)}`,
        { cause: err },
      );
    }
  }

  /**
   * Polls the job until it is `finished` (returns it, `output` included) or `error` (throws
   * NexrenderJobError). Times out with an Error naming the uid and the last state seen. A server
   * that cannot be reached is polled again until the timeout (it may be restarting); any other
   * answer it gives that is not a job fails at once.
   */
  async waitForJob(uid: string, opts: WaitForJobOptions = {}): Promise<Job> {
    const { pollMs = 5000, timeoutMs = 30 * 60_000, onProgress, signal } = opts;
    const deadline = Date.now() + timeoutMs;
    let lastState = 'not yet polled';
    for (;;) {
      signal?.throwIfAborted();
      let failure = '';
      try {
        const job = await this.getJob(uid);
        if (!job) throw new Error(`nexrender server ${this.#where} has no job ${uid}`);
        lastState = job.state;
        onProgress?.(job.state, job.renderProgress ?? 0);
        if (job.state === 'finished') return job;
        if (job.state === 'error') {
          const e = job.error;
          const text = (Array.isArray(e) ? e.join('\n\n') : e) || 'no error text reported';
          throw new NexrenderJobError(uid, text);
        }
      } catch (err) {
        if (fetchErrorType(err) !== 'system') throw err;
        failure = `; last poll failed: ${(err as Error).message}`;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `nexrender job ${uid} did not finish within ${timeoutMs} ms (last state: ${lastState}${failure})`,
        );
      }
      try {
        await sleep(Math.min(pollMs, left), undefined, { signal });
      } catch (err) {
        signal?.throwIfAborted();
        throw err;
      }
    }
  }
}

export interface RenderWithNexrenderOptions
  extends NexrenderClientOptions, BuildNexrenderJobOptions, WaitForJobOptions {}

/**
 * Builds, submits and waits for the job; returns the finished job and where its MP4 was copied
 * (on the worker's machine). With a `uid`, a job the server already has is waited for rather than
 * submitted again, so a retried activity does not render twice; derive that uid from the
 * creative's identity so one uid never names two different jobs.
 */
export async function renderWithNexrender(
  spec: CreativeSpec,
  template: NexrenderTemplate,
  ratio: AspectRatio,
  opts: RenderWithNexrenderOptions,
): Promise<{ job: Job; file: string }> {
  const { job, output } = buildJob(spec, template, ratio, opts);
  const client = new NexrenderClient(opts);
  let existing = opts.uid ? await client.getJob(opts.uid) : null;
  if (existing?.state === 'error') {
    // A job that failed (a crashed After Effects, a full disk) is not this attempt's answer:
    // remove it and render again under the same uid.
    await client.remove(existing.uid);
    existing = null;
  }
  const uid = existing ? existing.uid : await client.submit(job);
  const finished = await client.waitForJob(uid, opts);
  return { job: finished, file: output };
}
