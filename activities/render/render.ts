// Render stage: a static PNG per ranked item, from the template's SVG with the artist's name,
// image and the market's copy, rasterised by sharp (librsvg + pango, so Arabic is shaped and laid
// out right to left). Content-addressed: an identical creative is never rendered twice.
import { Context } from '@temporalio/activity';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { MarketLoopInput, RankedItem, RenderedCreative } from '../../core/types.ts';
import { getArtists, getMarket } from '../../db/catalog.repository.ts';
import { getCreatives, upsertCreative } from '../../db/creatives.repository.ts';
import type { ActivityDeps } from '../deps.ts';
import { withStage } from '../stage.ts';
import { fillTemplate, loadTemplates } from './templates.ts';

export interface RenderInput extends MarketLoopInput {
  items: RankedItem[];
}

/** Hash of everything that determines a creative's pixels. */
export function creativeHash(parts: Record<string, string | number>): string {
  const canonical = JSON.stringify(
    Object.keys(parts)
      .sort()
      .map((k) => [k, parts[k]]),
  );
  return createHash('sha256').update(canonical).digest('hex').slice(0, 24);
}

/** Writes a file so that readers never see a half-written one. */
async function writeAtomic(file: string, data: Buffer) {
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.promises.writeFile(tmp, data);
  await fs.promises.rename(tmp, file);
}

export function createRenderActivities({ db, config }: ActivityDeps) {
  return {
    async renderCreatives({ market, items }: RenderInput): Promise<RenderedCreative[]> {
      return withStage(
        db,
        'render',
        async () => {
          const library = loadTemplates(config.TEMPLATES_DIR);
          const m = await getMarket(db, market);
          if (!m)
            throw new Error(`market ${market} is not in the database; ingest the catalog first`);
          const artists = new Map(
            (
              await getArtists(
                db,
                items.map((i) => i.artistId),
              )
            ).map((a) => [a.id, a]),
          );
          await fs.promises.mkdir(config.CREATIVES_DIR, { recursive: true });
          const out: RenderedCreative[] = [];
          for (const [n, item] of items.entries()) {
            Context.current().heartbeat({ rendered: n });
            const artist = artists.get(item.artistId);
            if (!artist)
              throw new Error(`artist ${item.artistId} of the ranking is not in the catalog`);
            const template = library.get(item.templateId);
            const image = await fs.promises.readFile(artist.image_path);
            const slots = {
              name: artist.name,
              headline: library.copy('headline', m.language),
              cta: library.copy('cta', m.language),
              direction: m.right_to_left ? 'rtl' : 'ltr',
            };
            const hash = creativeHash({
              template: template.id,
              version: template.version,
              source: template.sourceHash,
              image: createHash('sha256').update(image).digest('hex'),
              language: m.language,
              ...slots,
            });
            const file = path.join(
              config.CREATIVES_DIR,
              `${market}-${artist.id}-${template.id}-${hash}.png`,
            );
            const [known] = await getCreatives(db, [hash]);
            const cached = known !== undefined && fs.existsSync(known.path);
            if (!cached) {
              const svg = fillTemplate(template.svg, {
                ...slots,
                image: `data:image/jpeg;base64,${image.toString('base64')}`,
              });
              const png = await sharp(Buffer.from(svg)).png({ compressionLevel: 9 }).toBuffer();
              await writeAtomic(file, png);
              await upsertCreative(db, {
                hash,
                market,
                artist_id: artist.id,
                template_id: template.id,
                template_version: template.version,
                language: m.language,
                aspect_ratio: template.aspectRatio,
                path: file,
                bytes: png.length,
              });
            }
            out.push({
              hash,
              artistId: artist.id,
              templateId: template.id,
              path: known?.path ?? file,
            });
          }
          return out;
        },
        (r) => ({ creatives: r.length }),
      );
    },
  };
}
