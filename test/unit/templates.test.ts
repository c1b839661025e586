import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { creativeHash } from '../../activities/render/render.ts';
import { fillTemplate, loadTemplates } from '../../activities/render/templates.ts';
import { escapeXml } from '../../core/xml.ts';
import { ROOT } from '../helpers/stack.ts';

describe('templates', () => {
  it('escapes XML so names cannot break the SVG', () => {
    assert.equal(escapeXml(`<Tom & "Jerry's">`), '&lt;Tom &amp; &quot;Jerry&apos;s&quot;&gt;');
    assert.equal(fillTemplate('<t>{{name}}</t>', { name: 'A&B' }), '<t>A&amp;B</t>');
  });

  it('refuses to render with an unfilled slot', () => {
    assert.throws(
      () => fillTemplate('<t>{{name}} {{cta}}</t>', { name: 'x' }),
      /\{\{cta\}\} has no value/,
    );
  });

  it('loads the shipped manifest with copy for every demo language', () => {
    const lib = loadTemplates(path.join(ROOT, 'templates'));
    assert.ok(lib.templates.length >= 2);
    for (const lang of ['sv', 'de', 'pt', 'ar'])
      assert.notEqual(lib.copy('cta', lang), lib.copy('cta', 'en'));
    assert.equal(lib.copy('cta', 'xx'), lib.copy('cta', 'en'));
    assert.throws(() => lib.get('nope'), /unknown template "nope"/);
  });

  it('hashes creatives by content, independent of key order', () => {
    assert.equal(creativeHash({ a: 1, b: 'x' }), creativeHash({ b: 'x', a: 1 }));
    assert.notEqual(creativeHash({ a: 1, b: 'x' }), creativeHash({ a: 2, b: 'x' }));
  });
});
