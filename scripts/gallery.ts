// `npm run gallery`: contact sheets of creatives, as HTML (stills, videos, QA verdicts and their
// reasons) and PNG (stills).
//   npm run gallery -- --date 2026-11-28 [--markets SE,EG]   a run's creatives, from the database
//   npm run gallery -- --templates [--languages en,ar,he]    every shipped template, rendered now
// Writes <out>/index.html, <out>/contact-sheet.png and the assets they show under <out>/assets.
import { Command, InvalidArgumentError } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import { countryName, creativeSpec, directionOf } from '../activities/render/creative-jobs.ts';
import { loadConfigPart, STORE_KEYS } from '../core/config.ts';
import { parseIsoDate } from '../core/dates.ts';
import { openDatabase } from '../db/database.ts';
import { getCreativeAssets, listRunCreatives } from '../db/creatives.repository.ts';
import {
  contactSheetPng,
  galleryHtml,
  type GalleryAsset,
  type GallerySection,
} from '../render/gallery.ts';
import { loadRenderer, renderCreative } from '../render/renderer.ts';
import { ASPECT_RATIOS, type CreativeKind } from '../render/spec.ts';
import { createCreativeStore, type CreativeStore } from '../render/storage.ts';
import { copyLanguage } from '../render/template.ts';

const opts = new Command()
  .name('npm run gallery --')
  .description("Contact sheets of a run's creatives, or of every shipped template.")
  .option('--date <YYYY-MM-DD>', 'the run whose creatives to show (from the database)')
  .option('--markets <codes>', 'only these markets, comma separated')
  .option('--templates', 'render every shipped template instead (no database needed)')
  .option('--languages <codes>', 'languages for --templates', 'en,ar,he')
  .option('--motion', 'with --templates: also render the videos (slower)')
  .option('--out <dir>', 'output folder', '.data/gallery')
  .parse()
  .opts<{
    date?: string;
    markets?: string;
    templates?: boolean;
    languages: string;
    motion?: boolean;
    out: string;
  }>();

const ROOT = path.resolve(import.meta.dirname, '..');
const log = (msg: string) => process.stderr.write(`gallery: ${msg}\n`);

/** Sample artists per language: names in the script of the copy, to show it shaped. */
const SAMPLE_ARTISTS: Record<string, string[]> = {
  ar: ['ليلى النجار', 'Nova Moreau'],
  he: ['נועה בן דוד', 'Nova Moreau'],
  default: ['Nova Moreau', 'Bartholomew Featherstonehaugh'],
};
const SAMPLE_MARKET: Record<string, string> = { ar: 'EG', he: 'IL', sv: 'SE', de: 'DE', pt: 'BR' };

/** Copies an asset under <out>/assets so the page and sheet travel as one folder. */
async function collect(store: CreativeStore, key: string, out: string): Promise<string> {
  const dest = path.join(out, 'assets', key);
  await fs.promises.mkdir(path.dirname(dest), { recursive: true });
  await fs.promises.copyFile(await store.localPath(key), dest);
  return dest;
}

async function templateSections(out: string): Promise<GallerySection[]> {
  const renderer = loadRenderer({
    TEMPLATES_DIR: path.join(ROOT, 'templates'),
    FONTS_MANIFEST: path.join(ROOT, 'templates/fonts.json'),
    CREATIVE_STORE: 'local',
    CREATIVES_DIR: path.join(out, 'store'),
  });
  const languages = opts.languages.split(',').map((l) => l.trim());
  const kinds: CreativeKind[] = opts.motion ? ['static', 'motion'] : ['static'];
  const sections: GallerySection[] = [];
  for (const template of renderer.library.templates) {
    const items = [];
    for (const lang of languages) {
      const language = copyLanguage(template, lang);
      for (const [n, artist] of (SAMPLE_ARTISTS[language] ?? SAMPLE_ARTISTS.default!).entries()) {
        const spec = creativeSpec(template, {
          language,
          artist,
          genre: 'pop',
          market: (l) => countryName(SAMPLE_MARKET[l] ?? 'US', l, 'Sweden'),
          image: path.join(
            ROOT,
            `catalog/demo/images/a${String(((n + languages.indexOf(lang)) % 24) + 1).padStart(2, '0')}.jpg`,
          ),
          selection: { ratios: [...ASPECT_RATIOS], kinds, staticFormat: 'jpeg' },
        });
        const result = await renderCreative(spec, renderer);
        log(
          `${template.id} ${language} "${artist}": ${result.rendered} rendered, ${result.cached} cached`,
        );
        const assets: GalleryAsset[] = [];
        for (const r of result.assets)
          assets.push({
            ratio: r.asset.ratio,
            kind: r.asset.kind,
            file: await collect(renderer.store, r.asset.key, out),
            qaPassed: r.qa.passed,
            platforms: Object.entries(r.qa.platforms)
              .filter(([, ok]) => ok)
              .map(([p]) => p),
            findings: r.qa.findings.map((f) => `${f.platform ?? 'all'}: ${f.message}`),
          });
        items.push({
          title: `${artist}`,
          subtitle: `${language} · ${template.name} v${template.version}`,
          rtl: spec.direction === 'rtl',
          assets,
        });
      }
    }
    sections.push({ title: `${template.name} (${template.id})`, items });
  }
  return sections;
}

async function runSections(
  out: string,
  date: string,
  markets: string[],
): Promise<GallerySection[]> {
  const config = loadConfigPart(['DATABASE_URL', 'PGLITE_DIR', ...STORE_KEYS]);
  const store = createCreativeStore(config);
  const database = await openDatabase({ url: config.DATABASE_URL, pgliteDir: config.PGLITE_DIR });
  try {
    const rows = await listRunCreatives(database.db, date, markets);
    if (rows.length === 0)
      throw new Error(
        `no creatives recorded for ${date}${markets.length ? ` in ${markets.join(', ')}` : ''}`,
      );
    const assets = await getCreativeAssets(
      database.db,
      rows.map((r) => r.hash),
    );
    const sections = new Map<string, GallerySection>();
    for (const row of rows) {
      const section = sections.get(row.market) ?? { title: `${row.market} · ${date}`, items: [] };
      sections.set(row.market, section);
      const mine: GalleryAsset[] = [];
      for (const a of assets.filter((x) => x.creative_hash === row.hash))
        mine.push({
          ratio: a.ratio as GalleryAsset['ratio'],
          kind: a.kind,
          file: await collect(store, a.storage_key, out),
          qaPassed: a.qa_passed,
          platforms: Object.entries(a.qa_platforms)
            .filter(([, ok]) => ok)
            .map(([p]) => p),
          findings: a.qa_findings.map((f) => `${f.platform ?? 'all'}: ${f.message}`),
        });
      section.items.push({
        title: `#${row.position} ${row.artist_name}`,
        subtitle: `${row.template_id} v${row.template_version} · ${row.language}${row.deployable ? '' : ' · held back by QA'}`,
        rtl: directionOf(row.language) === 'rtl',
        assets: mine,
      });
    }
    return [...sections.values()];
  } finally {
    await database.close();
  }
}

try {
  if (!opts.templates && !opts.date)
    throw new InvalidArgumentError('give --date YYYY-MM-DD (a run) or --templates');
  const out = path.resolve(opts.out);
  await fs.promises.mkdir(out, { recursive: true });
  const sections = opts.templates
    ? await templateSections(out)
    : await runSections(
        out,
        parseIsoDate(opts.date!, '--date'),
        opts.markets ? opts.markets.split(',').map((m) => m.trim().toUpperCase()) : [],
      );
  const title = opts.templates ? 'adloop templates' : `adloop creatives ${opts.date}`;
  await fs.promises.writeFile(path.join(out, 'index.html'), galleryHtml(title, sections, out));
  await contactSheetPng(sections, path.join(out, 'contact-sheet.png'));
  console.log(
    `gallery: ${path.join(out, 'index.html')} and ${path.join(out, 'contact-sheet.png')}`,
  );
} catch (err) {
  console.error(`gallery failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
