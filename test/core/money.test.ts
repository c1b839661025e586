import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { convertMicros, loadFxTable, parseFxTable } from '../../core/money.ts';
import { COUNTRIES } from '../../core/countries.ts';
import { ROOT } from '../helpers/stack.ts';

describe('money', () => {
  const fx = loadFxTable(path.join(ROOT, 'config/fx-rates.json'));

  it('converts micros between currencies through the base', () => {
    assert.equal(convertMicros(10_600_000, 'SEK', 'USD', fx), 1_000_000);
    assert.equal(convertMicros(1_000_000, 'USD', 'EUR', fx), 920_000);
    assert.equal(convertMicros(1_000_000, 'SEK', 'SEK', fx), 1_000_000);
    const there = convertMicros(123_456_789, 'BRL', 'JPY', fx);
    assert.ok(
      Math.abs(convertMicros(there, 'JPY', 'BRL', fx) - 123_456_789) <= 1,
      'round trip within a micro',
    );
  });

  it('covers every currency of the known countries', () => {
    for (const c of COUNTRIES) assert.ok(fx.perBase[c.currency], `${c.code}: ${c.currency}`);
  });

  it('names what is wrong', () => {
    assert.throws(() => convertMicros(1, 'XYZ', 'USD', fx), /no exchange rate for XYZ/);
    assert.throws(
      () => parseFxTable({ base: 'USD', asOf: '2026-01-01', perBase: { USD: 1, EUR: -1 } }),
      /perBase\.EUR: Too small/,
    );
    assert.throws(
      () => parseFxTable({ base: 'USD', asOf: '2026-01-01', perBase: { USD: 2 } }),
      /perBase\.USD: the base currency's rate must be 1/,
    );
    assert.throws(() => loadFxTable('/nope.json'), /cannot read exchange rates/);
  });
});
