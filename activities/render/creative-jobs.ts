// From a ranked (artist x template) item to a creative spec: the template's copy in the market's
// language (or the template's first language when it has none for it), the artist's name, genre
// and photo, the country's name in that language, and what to render (ratios, kinds, format).
import type { Config } from '../../core/config.ts';
import type { RankedItem } from '../../core/types.ts';
import type { Artist, Market } from '../../db/catalog.table.ts';
import type { CreativeAsset, CreativeSpec, TextDirection } from '../../render/spec.ts';
import { copyLanguage, fillCopy, type Template } from '../../render/template.ts';
import type { QaReport } from '../../render/qa.ts';

/** One creative to render for a market's ranked item. Travels through workflow histories. */
export interface CreativeJob {
  market: string;
  rank: number;
  artistId: string;
  templateId: string;
  spec: CreativeSpec;
  /** The ad's own text fields on the platform (primary text and headline). */
  adText: { message: string; headline: string };
}

/** What a render worker returns for a job. */
export interface CreativeJobResult {
  hash: string;
  assets: Array<{ asset: CreativeAsset; qa: QaReport; renderMs: number }>;
  rendered: number;
  cached: number;
}

const RTL_LANGUAGES = new Set(['ar', 'he', 'fa', 'ur', 'yi', 'ps', 'sd', 'ug', 'ckb', 'dv']);

export function directionOf(language: string): TextDirection {
  return RTL_LANGUAGES.has(language.split('-')[0]!.toLowerCase()) ? 'rtl' : 'ltr';
}

/** The country's name in `language` (`Ägypten`, `مصر`), or the catalog's name. */
export function countryName(code: string, language: string, fallback: string): string {
  try {
    return new Intl.DisplayNames([language], { type: 'region' }).of(code) ?? fallback;
  } catch {
    return fallback;
  }
}

export function renderSelection(
  config: Pick<Config, 'RENDER_KINDS' | 'RENDER_RATIOS' | 'STATIC_FORMAT'>,
): Pick<CreativeSpec, 'ratios' | 'kinds' | 'staticFormat'> {
  return {
    ratios: [...config.RENDER_RATIOS],
    kinds: [...config.RENDER_KINDS],
    staticFormat: config.STATIC_FORMAT,
  };
}

/**
 * An artist without a photo gets a generated one (its colours derived from the id); the renderer
 * draws it, so no file has to travel to a render worker.
 */
export function artistImageRef(artist: Pick<Artist, 'id' | 'image_path'>): string {
  return artist.image_path || `generated:${artist.id}`;
}

/** The text of every text slot: copy in `language` with placeholders filled, or catalog values. */
function slotTexts(
  template: Template,
  language: string,
  values: { artist: string; genre: string; market: string },
): Record<string, string> {
  const text: Record<string, string> = {};
  for (const [slot, def] of Object.entries(template.slots)) {
    if (def.type !== 'text') continue;
    if (def.copy) text[slot] = fillCopy(def.copy[language]!, values);
    else if (def.source === 'artist.name') text[slot] = values.artist;
    else if (def.source === 'artist.genre') text[slot] = values.genre;
    else text[slot] = values.market;
  }
  return text;
}

/** A creative spec of `template` for an artist: copy in `language` (the template's fallback if it has none). */
export function creativeSpec(
  template: Template,
  o: {
    language: string;
    artist: string;
    genre: string;
    /** The country's name in the copy's language. */
    market: (language: string) => string;
    /** Image reference for every image slot (see artistImageRef). */
    image: string;
    selection: Pick<CreativeSpec, 'ratios' | 'kinds' | 'staticFormat'>;
  },
): CreativeSpec {
  const language = copyLanguage(template, o.language);
  const text = slotTexts(template, language, {
    artist: o.artist,
    genre: o.genre,
    market: o.market(language),
  });
  const images: Record<string, string> = {};
  for (const [slot, def] of Object.entries(template.slots))
    if (def.type === 'image') images[slot] = o.image;
  return {
    templateId: template.id,
    templateVersion: template.version,
    language,
    direction: directionOf(language),
    text,
    images,
    colors: {},
    // The catalog has no track previews yet; the audio slot stays empty.
    audio: null,
    ...o.selection,
  };
}

export function creativeJob(
  item: RankedItem,
  template: Template,
  artist: Pick<Artist, 'id' | 'name' | 'genre' | 'image_path'>,
  market: Pick<Market, 'code' | 'name' | 'language'>,
  selection: Pick<CreativeSpec, 'ratios' | 'kinds' | 'staticFormat'>,
): CreativeJob {
  const spec = creativeSpec(template, {
    language: market.language,
    artist: artist.name,
    genre: artist.genre,
    market: (language) => countryName(market.code, language, market.name),
    image: artistImageRef(artist),
    selection,
  });
  const { text } = spec;
  const copyText = Object.entries(text)
    .filter(([slot]) => template.slots[slot]?.type === 'text' && slot !== 'name')
    .map(([, v]) => v);
  return {
    market: market.code,
    rank: item.rank,
    artistId: artist.id,
    templateId: template.id,
    spec,
    adText: {
      message: [artist.name, copyText[0]].filter(Boolean).join(' · '),
      headline: copyText[copyText.length - 1] ?? template.name,
    },
  };
}
