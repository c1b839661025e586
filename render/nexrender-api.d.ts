// Minimal types for @nexrender/api and @nexrender/types, which ship none. Only what adloop calls
// is declared. Both packages are CommonJS; Node's ESM loader sees their named exports. The job
// module is imported as `@nexrender/types/job.js`: the package has no `exports` map, so plain Node
// ESM does not add the extension for us (tsx would, but scripts run without it too).

declare module '@nexrender/types/job.js' {
  export interface JobTemplate {
    /** URL of the After Effects project (`file://`, `http(s)://`, ...). */
    src: string;
    composition: string;
    outputModule?: string;
    outputExt?: string;
    frameStart?: number;
    frameEnd?: number;
    continueOnMissing?: boolean;
    settingsTemplate?: string;
    imageSequence?: boolean;
  }

  export interface JobDataAsset {
    type: 'data';
    layerName?: string;
    layerIndex?: number;
    composition?: string;
    /** Dotted property path, e.g. `Source Text` or `Effects.Fill.Color`. */
    property: string;
    value?: unknown;
    expression?: string;
  }

  export interface JobFileAsset {
    type: 'image' | 'audio' | 'video' | 'script' | 'static';
    src: string;
    layerName?: string;
    layerIndex?: number;
    composition?: string;
  }

  export type JobAsset = JobDataAsset | JobFileAsset;

  /** A pre- or postrender action: the module to run and its options. */
  export interface JobAction {
    module: string;
    [option: string]: unknown;
  }

  export interface Job {
    uid: string;
    type: string;
    /** `created`, `queued`, `picked`, `started`, `render:<step>`, `finished` or `error`. */
    state: string;
    /** Path of the rendered file on the worker, set when it finishes. */
    output: string;
    /** Comma-separated labels. */
    tags: string;
    priority: number;
    template: JobTemplate;
    assets: JobAsset[];
    actions: { prerender: JobAction[]; postrender: JobAction[] };
    timings?: Record<string, number>;
    /** 0..100 while the state is `render:dorender`. */
    renderProgress?: number;
    /** What the worker reported on failure; an array when several steps failed. */
    error?: string | string[] | null;
    creator?: string;
    executor?: string;
    createdAt?: string;
    updatedAt?: string;
    startedAt?: string;
    finishedAt?: string;
    errorAt?: string;
  }

  /** Fills in the defaults (uid, state `created`, empty actions, ...) of a partial job. */
  export function create(job: Partial<Job>): Job;
  /** Returns true or throws an AssertionError saying what is wrong. */
  export function validate(job: Job): true;
}

declare module '@nexrender/api' {
  import type { EventEmitter } from 'node:events';
  import type { Job } from '@nexrender/types/job.js';

  export interface ClientOptions {
    /** Server base URL, without `/api/v1`. */
    host: string;
    secret?: string;
    /** Poll interval of the emitters `addJob` / `resumeJob` return; 10 000 ms by default. */
    polling?: number;
    headers?: Record<string, string | (() => string | Promise<string>)>;
    /** Sent as `nexrender-name`. */
    name?: string;
  }

  /**
   * Every method throws `Error(<response text>)` on a non-2xx answer and node-fetch's
   * `FetchError` (`type` `system` or `invalid-json`) when the server cannot be reached or answers
   * with a body that is not JSON.
   */
  export interface Client {
    host: string;
    listJobs(): Promise<Job[]>;
    fetchJob(uid: string): Promise<Job>;
    /** The oldest queued job, now `picked`; `{}` when none is queued. */
    pickupJob(selector?: string): Promise<Job | Record<string, never>>;
    /** Starts a poller that only stops when the job finishes or errors. */
    addJob(job: Partial<Job>): Promise<EventEmitter>;
    updateJob(uid: string, data: Partial<Job>): Promise<Job>;
    removeJob(uid: string): Promise<{ id: string; removed: boolean }>;
  }

  export function createClient(options: ClientOptions): Client;
}
