// Regenerates catalog/demo/: the sample catalog `npm start` ingests (markets, artists with
// per-market popularity) and one image per artist. Deterministic; the output is committed.
//   tsx scripts/generate-demo-catalog.ts
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { keyed } from '../core/random.ts';

const out = path.resolve('catalog/demo');
const markets = [
  {
    code: 'SE',
    name: 'Sweden',
    language: 'sv',
    currency: 'SEK',
    timeZone: 'Europe/Stockholm',
    rightToLeft: false,
  },
  {
    code: 'DE',
    name: 'Germany',
    language: 'de',
    currency: 'EUR',
    timeZone: 'Europe/Berlin',
    rightToLeft: false,
  },
  {
    code: 'BR',
    name: 'Brazil',
    language: 'pt',
    currency: 'BRL',
    timeZone: 'America/Sao_Paulo',
    rightToLeft: false,
  },
  {
    code: 'EG',
    name: 'Egypt',
    language: 'ar',
    currency: 'EGP',
    timeZone: 'Africa/Cairo',
    rightToLeft: true,
  },
];
/** Dimensions of the demo artists' embeddings (as the sandbox's generated catalogs). */
const EMBEDDING_DIMS = 8;
const genres = ['pop', 'hip-hop', 'electronic', 'rock', 'latin', 'indie'];
const first = [
  'Nova',
  'Kai',
  'Lumi',
  'Ari',
  'Sol',
  'Mika',
  'Zara',
  'Otto',
  'Luna',
  'Rio',
  'Ivy',
  'Eli',
];
const last = [
  'Lind',
  'Vega',
  'Storm',
  'Moreau',
  'Okafor',
  'Sato',
  'Berg',
  'Costa',
  'Haddad',
  'Quinn',
  'Falk',
  'Reyes',
];

const artists = Array.from({ length: 24 }, (_, i) => {
  const r = keyed('demo-catalog', i);
  const id = `a${String(i + 1).padStart(2, '0')}`;
  const genre = genres[i % genres.length]!;
  const base = 0.2 + 0.7 * r();
  const popularity: Record<string, number> = {};
  for (const m of markets) {
    popularity[m.code] =
      Math.round(Math.min(1, Math.max(0.01, base + 0.3 * (r() - 0.5))) * 1000) / 1000;
  }
  // Place in a small similarity space: the genre's centre plus the artist's own offset, so
  // artists of a genre lie close together and the ranker can fit each market's taste over them.
  const centre = keyed('demo-genre-centre', genre);
  const own = keyed('demo-embedding', i);
  const embedding = Array.from(
    { length: EMBEDDING_DIMS },
    () => Math.round((2 * centre() - 1 + 0.35 * (2 * own() - 1)) * 1000) / 1000,
  );
  return {
    id,
    name: `${first[i % first.length]} ${last[(i * 5 + 3) % last.length]}`,
    genre,
    image: `images/${id}.jpg`,
    popularity,
    embedding,
  };
});

fs.mkdirSync(path.join(out, 'images'), { recursive: true });
for (const [i, a] of artists.entries()) {
  const r = keyed('demo-image', i);
  const hue = Math.floor(r() * 360);
  const circles = Array.from({ length: 6 }, () => {
    const [cx, cy, rad] = [r() * 512, r() * 512, 40 + r() * 160];
    return `<circle cx="${cx.toFixed(0)}" cy="${cy.toFixed(0)}" r="${rad.toFixed(0)}" fill="hsl(${(hue + r() * 90) % 360},70%,${40 + r() * 30}%)" fill-opacity="0.55"/>`;
  }).join('');
  // Drawn at 1080 px, the largest size a template draws a photo at, so creatives are never upscaled.
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1080" height="1080" viewBox="0 0 512 512">
    <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">
      <stop offset="0" stop-color="hsl(${hue},60%,25%)"/><stop offset="1" stop-color="hsl(${(hue + 60) % 360},70%,55%)"/>
    </linearGradient></defs>
    <rect width="512" height="512" fill="url(#g)"/>${circles}
    <circle cx="256" cy="230" r="90" fill="hsl(${hue},30%,85%)"/>
    <rect x="136" y="330" width="240" height="200" rx="110" fill="hsl(${hue},30%,85%)"/>
  </svg>`;
  await sharp(Buffer.from(svg)).jpeg({ quality: 80 }).toFile(path.join(out, a.image));
}
fs.writeFileSync(
  path.join(out, 'catalog.json'),
  JSON.stringify({ markets, artists }, null, 2) + '\n',
);
console.log(`wrote ${artists.length} artists and ${markets.length} markets to ${out}`);
