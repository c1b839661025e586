// What the Google target puts into an App ad besides the creatives: text that fits Google's limits
// (double-width characters count twice) and suits every image Google may pair it with, and the
// landing link each image carries in its metadata.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import {
  appAdText,
  fitGoogleText,
  googleTextWidth,
  withSourceLink,
} from '../../activities/deploy/google-target.ts';

describe('Google App ad text', () => {
  it('counts double-width characters twice and cuts at a word within the limit', () => {
    assert.equal(googleTextWidth('Listen now'), 10);
    assert.equal(googleTextWidth('毎日新しい音楽'), 14);
    assert.equal(googleTextWidth('새 음악'), 7);
    const cut = fitGoogleText('Discover new music from artists you love every single day', 30);
    assert.ok(googleTextWidth(cut) <= 30, cut);
    assert.match(cut, /^Discover new music from…$/);
    const cjk = fitGoogleText('毎日新しい音楽を発見しよう、好きなアーティストから', 30);
    assert.ok(googleTextWidth(cjk) <= 30, cjk);
    assert.equal(fitGoogleText('  Short  ', 30), 'Short');
  });

  it('uses the app name and the templates’ copy, never an artist’s name, each once', () => {
    const text = appAdText('Your Music App', [
      { headline: 'Listen now', message: 'Björk · New music every day' },
      { headline: 'Listen now', message: 'ABBA · New music every day' },
      { headline: 'Jetzt anhören', message: 'Kraftwerk · Jeden Tag neue Musik' },
    ]);
    assert.deepEqual(text.headlines, ['Your Music App', 'Listen now', 'Jetzt anhören']);
    assert.deepEqual(text.descriptions, ['New music every day', 'Jeden Tag neue Musik']);
    for (const name of ['Björk', 'ABBA', 'Kraftwerk'])
      assert.ok(![...text.headlines, ...text.descriptions].some((t) => t.includes(name)));
  });

  it('holds at most five headlines and five descriptions, and never none', () => {
    const many = Array.from({ length: 9 }, (_, i) => ({
      headline: `Headline ${i}`,
      message: `Artist ${i} · Copy ${i}`,
    }));
    const text = appAdText('App', many);
    assert.equal(text.headlines.length, 5);
    assert.equal(text.descriptions.length, 5);
    assert.deepEqual(appAdText('App', [{ headline: '', message: 'Only an artist' }]), {
      headlines: ['App'],
      descriptions: ['App'],
    });
  });
});

describe('an image’s source link', () => {
  it('travels in the image’s XMP as dc:source, escaped', async () => {
    const png = await sharp({
      create: { width: 8, height: 8, channels: 3, background: '#123456' },
    })
      .png()
      .toBuffer();
    const link = 'https://example.com/artist/a1?utm_content=a1.spotlight&x=<1>';
    const out = await withSourceLink(png, link);
    const xmp = (await sharp(out).metadata()).xmp?.toString() ?? '';
    assert.match(
      xmp,
      /<dc:source>https:\/\/example\.com\/artist\/a1\?utm_content=a1\.spotlight&amp;x=&lt;1&gt;<\/dc:source>/,
    );
    assert.equal((await sharp(out).metadata()).format, 'png');
  });
});
