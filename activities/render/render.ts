// Render stage: a static PNG per ranked item, from the template's SVG with the artist's name,
// image and the market's copy, rasterised by sharp (librsvg + pango, so Arabic is shaped and laid
// out right to left). Content-addressed: an identical creative is never rendered twice.
import { Context } from '@temporalio/activity';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { hashString } from '../../core/random.ts';
import type { MarketLoopInput, RankedItem, RenderedCreative } from '../../core/types.ts';
import { getArtists, getMarket } from '../../db/catalog.repository.ts';
import { getCreatives, recordTemplate, upsertCreative } from '../../db/creatives.repository.ts';
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

/**
 * The artist's picture; an artist the catalog has no image for gets a generated gradient (its
 * colours derived from the id, so every render of it is the same).
 */
async function artistImage(
  file: string,
  artistId: string,
): Promise<{ bytes: Buffer; mime: string }> {
  if (file) {
    const bytes = await fs.promises.readFile(file);
    return { bytes, mime: file.toLowerCase().endsWith('.png') ? 'image/png' : 'image/jpeg' };
  }
  const hue = hashString(artistId) % 360;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="512" height="512"><defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="hsl(${hue},60%,30%)"/><stop offset="1" stop-color="hsl(${(hue + 70) % 360},70%,60%)"/></linearGradient></defs><rect width="512" height="512" fill="url(#g)"/></svg>`;
  return { bytes: Buffer.from(svg), mime: 'image/svg+xml' };
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
            await recordTemplate(db, template);
            const { bytes: image, mime } = await artistImage(artist.image_path, artist.id);
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
                image: `data:${mime};base64,${image.toString('base64')}`,
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
                asset_uri: pathToFileURL(file).href,
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
