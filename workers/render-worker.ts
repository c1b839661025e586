// Builds a render worker: only the renderCreative activity, on its own task queue, so render
// capacity scales apart from the loop (run one per machine with ffmpeg and the fonts). It needs no
// database and no ad-platform credentials: templates, fonts and the creative store are all it uses,
// plus a nexrender farm (NEXRENDER_URL, NEXRENDER_SECRET, NEXRENDER_OUTPUT_DIR) when configured,
// for the motion of templates with an After Effects version.
import { useMediaTools } from '../render/media-tools.ts';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import os from 'node:os';
import { createRenderWorkerActivities } from '../activities/render/render.ts';
import { STORE_KEYS, type Config } from '../core/config.ts';
import { dataConverterOptions, payloadCodecFrom } from '../core/payload-codec.ts';
import { loadRenderer } from '../render/renderer.ts';
import { temporalConnectionOptions } from '../core/temporal-connection.ts';

export const RENDER_WORKER_KEYS = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'RENDER_TASK_QUEUE',
  'RENDER_CONCURRENCY',
  'FFMPEG_PATH',
  'FFPROBE_PATH',
  'TEMPLATES_DIR',
  'FONTS_MANIFEST',
  ...STORE_KEYS,
  'NEXRENDER_URL',
  'NEXRENDER_SECRET',
  'NEXRENDER_OUTPUT_DIR',
  'PAYLOAD_KEY',
  'PAYLOAD_KEY_ID',
  'PAYLOAD_KEYS_PREVIOUS',
] as const satisfies ReadonlyArray<keyof Config>;

/** The settings a render worker reads. */
export type RenderWorkerConfig = Pick<Config, (typeof RENDER_WORKER_KEYS)[number]>;

/** Renders at once: RENDER_CONCURRENCY, or one per CPU (ffmpeg and libvips each use a core). */
export function renderConcurrency(config: Pick<Config, 'RENDER_CONCURRENCY'>): number {
  return config.RENDER_CONCURRENCY || os.availableParallelism();
}

export interface RenderWorker {
  worker: Worker;
  concurrency: number;
  shutdown(): Promise<void>;
  done: Promise<void>;
}

export async function startRenderWorker(
  config: RenderWorkerConfig,
  overrides: Partial<WorkerOptions> = {},
): Promise<RenderWorker> {
  // The config carries the NEXRENDER_* settings too; loadRenderer checks them, so NEXRENDER_URL
  // without NEXRENDER_OUTPUT_DIR fails at start rather than on the first motion render.
  useMediaTools(config);
  const renderer = loadRenderer(config);
  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
  try {
    const concurrency = renderConcurrency(config);
    const worker = await Worker.create({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.RENDER_TASK_QUEUE,
      activities: createRenderWorkerActivities({ renderer }),
      maxConcurrentActivityTaskExecutions: concurrency,
      // Encrypts every payload when PAYLOAD_KEY is set, as the loop worker does.
      ...dataConverterOptions(payloadCodecFrom(config)),
      ...overrides,
    });
    const done = worker.run().finally(() => connection.close());
    return {
      worker,
      concurrency,
      done,
      async shutdown() {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await done;
      },
    };
  } catch (err) {
    await connection.close();
    throw err;
  }
}
