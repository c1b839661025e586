// Render stage. Three steps, so rendering can run on its own workers:
//   prepareCreatives  (loop queue)   ranked items -> creative specs, from the database
//   renderCreative    (render queue) one spec -> its assets in the store, each checked by QA;
//                                    needs no database, heartbeats while ffmpeg works
//   recordCreatives   (loop queue)   assets and QA verdicts -> the database; picks what deploy
//                                    may ship, and says why the rest may not
// (The one-activity `renderCreatives` of runs from before the render queue was retired in v11.)
import { Context } from '@temporalio/activity';
import { count } from '../counters.ts';
import { fileURLToPath } from 'node:url';
import {
  DEPLOY_SLOTS,
  type DeploySlot,
  type MarketLoopInput,
  type RankedItem,
  type RenderedCreative,
} from '../../core/types.ts';
import { getArtists, getMarket } from '../../db/catalog.repository.ts';
import {
  recordTemplate,
  saveRenderedCreative,
  setRunCreatives,
} from '../../db/creatives.repository.ts';
import { PLATFORMS } from '../../render/platform-specs.ts';
import { renderCreative, type RendererDeps } from '../../render/renderer.ts';
import { ASPECT_RATIOS, type CreativeAsset } from '../../render/spec.ts';
import type { Config } from '../../core/config.ts';
import type { StageDeps } from '../deps.ts';
import { toFailure, withStage } from '../stage.ts';
import {
  creativeJob,
  renderSelection,
  type CreativeJob,
  type CreativeJobResult,
} from './creative-jobs.ts';

/** Settings render reads: which kinds, ratios and still format each creative is rendered in. */
export type RenderSettings = Pick<Config, 'RENDER_KINDS' | 'RENDER_RATIOS' | 'STATIC_FORMAT'>;

export interface RenderInput extends MarketLoopInput {
  items: RankedItem[];
}

export interface RecordInput extends MarketLoopInput {
  jobs: CreativeJob[];
  /** Per job, in the same order: what the render worker returned, or why it failed for good. */
  results: Array<CreativeJobResult | { error: string }>;
}

export interface RejectedCreative {
  artistId: string;
  templateId: string;
  hash: string | null;
  /** Why it is not deployed: QA findings or the render error. */
  reasons: string[];
}

export interface RecordResult {
  /** What deploy ships today, in rank order. */
  creatives: RenderedCreative[];
  rejected: RejectedCreative[];
}

type Ratio = (typeof ASPECT_RATIOS)[number];

/**
 * The asset each deploy slot gets, best first: Meta's feed takes a square static first; TikTok is
 * a full-screen vertical video app, so a 9:16 motion first, then a 9:16 still. Google's App ads
 * take images (square first) and, separately, videos (YouTube: vertical first, for Shorts and
 * mobile placements). A Meta video ad gives each placement its own cut: 9:16 for stories and
 * reels, 4:5 for feeds (the tallest a feed shows uncropped), else 1:1 (the Meta still stays the
 * fallback when a video cannot run).
 */
const DEPLOY_PREFERENCE: Record<DeploySlot, Array<[CreativeAsset['kind'], Ratio]>> = {
  meta: [
    ['static', '1:1'],
    ['static', '4:5'],
    ['static', '16:9'],
    ['static', '9:16'],
  ],
  tiktok: [
    ['motion', '9:16'],
    ['static', '9:16'],
    ['motion', '1:1'],
    ['static', '1:1'],
  ],
  google: [
    ['static', '1:1'],
    ['static', '4:5'],
  ],
  'google-video': [
    ['motion', '9:16'],
    ['motion', '16:9'],
    ['motion', '1:1'],
  ],
  'meta-video-vertical': [['motion', '9:16']],
  'meta-video-feed': [
    ['motion', '4:5'],
    ['motion', '1:1'],
  ],
};

/** The platform whose QA a slot's asset must pass. */
const slotPlatform = (slot: DeploySlot) =>
  slot === 'google-video'
    ? 'google'
    : slot === 'meta-video-vertical' || slot === 'meta-video-feed'
      ? 'meta'
      : slot;

/** The asset a deploy slot gets: the first of its preferences that passed QA on its platform. */
export function pickDeployAsset<T extends { kind: string; ratio: string }>(
  assets: ReadonlyArray<{ asset: T; platforms: Readonly<Record<string, boolean>> }>,
  slot: DeploySlot,
): T | null {
  const platform = slotPlatform(slot);
  for (const [kind, ratio] of DEPLOY_PREFERENCE[slot]) {
    const r = assets.find(
      (a) => a.asset.ratio === ratio && a.asset.kind === kind && a.platforms[platform],
    );
    if (r) return r.asset;
  }
  return null;
}

/** Every slot's asset of a creative (slots with none are absent). */
export function deployAssets<T extends { kind: string; ratio: string }>(
  assets: ReadonlyArray<{ asset: T; platforms: Readonly<Record<string, boolean>> }>,
): Partial<Record<DeploySlot, T>> {
  const out: Partial<Record<DeploySlot, T>> = {};
  for (const slot of DEPLOY_SLOTS) {
    const a = pickDeployAsset(assets, slot);
    if (a) out[slot] = a;
  }
  return out;
}

const deployAsset = (a: CreativeAsset) => ({
  key: a.key,
  format: a.format,
  kind: a.kind,
  ratio: a.ratio,
});

function findingLines(result: CreativeJobResult): string[] {
  const lines = new Set<string>();
  for (const { asset, qa } of result.assets)
    for (const f of qa.findings)
      lines.add(
        `${asset.ratio} ${asset.kind}${f.platform ? ` (${f.platform})` : ''}: ${f.message}`,
      );
  return [...lines];
}

/** The activity a render worker runs: needs only the renderer (templates, fonts, store). */
export function createRenderWorkerActivities({ renderer }: { renderer: RendererDeps }) {
  return {
    async renderCreative(job: CreativeJob): Promise<CreativeJobResult> {
      const ctx = Context.current();
      try {
        const out = await renderCreative(job.spec, renderer, {
          onProgress: (p) => ctx.heartbeat(p),
          signal: ctx.cancellationSignal,
        });
        count('adloop_renders', out.rendered);
        return out;
      } catch (err) {
        throw toFailure(err);
      }
    },
  };
}

export function createRenderActivities(deps: StageDeps<RenderSettings>) {
  const { db, config, renderer } = deps;
  const worker = createRenderWorkerActivities({ renderer });

  async function prepare({ market, items }: RenderInput): Promise<CreativeJob[]> {
    const m = await getMarket(db, market);
    if (!m) throw new Error(`market ${market} is not in the database; ingest the catalog first`);
    const artists = new Map(
      (
        await getArtists(
          db,
          items.map((i) => i.artistId),
        )
      ).map((a) => [a.id, a]),
    );
    const selection = renderSelection(config);
    return items.map((item) => {
      const artist = artists.get(item.artistId);
      if (!artist) throw new Error(`artist ${item.artistId} of the ranking is not in the catalog`);
      let template;
      try {
        template = renderer.library.get(item.templateId);
      } catch (err) {
        throw toFailure(err);
      }
      return creativeJob(item, template, artist, m, selection);
    });
  }

  async function record({ market, date, jobs, results }: RecordInput): Promise<RecordResult> {
    const creatives: RenderedCreative[] = [];
    const rejected: RejectedCreative[] = [];
    const run: Array<{ hash: string; deployable: boolean }> = [];
    for (const [i, job] of jobs.entries()) {
      const result = results[i];
      if (!result || 'error' in result) {
        rejected.push({
          artistId: job.artistId,
          templateId: job.templateId,
          hash: null,
          reasons: [`render failed: ${result?.error ?? 'no result'}`],
        });
        continue;
      }
      const template = renderer.library.get(job.templateId);
      await recordTemplate(db, {
        id: template.id,
        version: template.version,
        theme: template.theme,
        aspectRatio: ASPECT_RATIOS.join(','),
        sourceHash: template.sourceHash,
      });
      const qaByAsset = result.assets.map((a) => ({ asset: a.asset, platforms: a.qa.platforms }));
      const slots = deployAssets(qaByAsset);
      const chosen = slots.meta ?? null;
      const forTikTok = slots.tiktok ?? null;
      const primary = chosen ?? result.assets[0]?.asset;
      const platforms = Object.fromEntries(
        PLATFORMS.map((p) => [p, result.assets.some((a) => a.qa.platforms[p])]),
      );
      await saveRenderedCreative(
        db,
        {
          hash: result.hash,
          market,
          artist_id: job.artistId,
          template_id: job.templateId,
          template_version: job.spec.templateVersion,
          language: job.spec.language,
          aspect_ratio: primary?.ratio ?? '',
          path: primary?.uri.startsWith('file:')
            ? fileURLToPath(primary.uri)
            : (primary?.uri ?? ''),
          asset_uri: primary?.uri ?? null,
          bytes: primary?.bytes ?? 0,
          qa_passed: result.assets.every((a) => a.qa.passed),
          qa_platforms: JSON.stringify(platforms),
        },
        result.assets.map(({ asset, qa, renderMs }) => ({
          ratio: asset.ratio,
          kind: asset.kind,
          format: asset.format,
          storageKey: asset.key,
          uri: asset.uri,
          width: asset.width,
          height: asset.height,
          bytes: asset.bytes,
          durationSeconds: asset.durationSeconds ?? null,
          qaPassed: qa.passed,
          qaPlatforms: qa.platforms,
          qaFindings: qa.findings,
          renderMs,
        })),
      );
      const deployable = Object.keys(slots).length > 0;
      run.push({ hash: result.hash, deployable });
      if (!deployable) {
        rejected.push({
          artistId: job.artistId,
          templateId: job.templateId,
          hash: result.hash,
          reasons: findingLines(result).length
            ? findingLines(result)
            : ['no asset any platform takes was rendered'],
        });
        continue;
      }
      const first = (chosen ?? forTikTok ?? slots.google ?? slots['google-video'])!;
      creatives.push({
        hash: result.hash,
        artistId: job.artistId,
        templateId: job.templateId,
        path: first.uri.startsWith('file:') ? fileURLToPath(first.uri) : first.uri,
        assetKey: first.key,
        format: first.format,
        adText: job.adText,
        platformAssets: Object.fromEntries(
          Object.entries(slots).map(([slot, a]) => [slot, deployAsset(a)]),
        ),
      });
    }
    await setRunCreatives(db, market, date, run);
    return { creatives, rejected };
  }

  return {
    ...worker,
    async prepareCreatives(input: RenderInput): Promise<CreativeJob[]> {
      return prepare(input);
    },
    async recordCreatives(input: RecordInput): Promise<RecordResult> {
      return withStage(
        db,
        'render',
        () => record(input),
        (r) => ({ creatives: r.creatives.length, rejected: r.rejected.length }),
      );
    },
  };
}
