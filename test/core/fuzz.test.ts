// Bad input, generated (fast-check): catalogs, worlds, templates, configuration and CLI arguments
// mutated at random (a field removed, a value replaced by something of another kind). Whatever
// comes in, the result is the input accepted, or the input's own error naming what is wrong and
// where: never a crash from deeper down (a TypeError), never an error without a place.
import fc from 'fast-check';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { CatalogError, parseCatalog } from '../../core/catalog.ts';
import { plainRow, schemaRow } from '../../core/catalog-rows.ts';
import { ConfigError, loadConfig } from '../../core/config.ts';
import { parseIsoDate, parseTimeZone } from '../../core/dates.ts';
import { parseTimeOfDay } from '../../ops/schedules.ts';
import { TemplateError, loadTemplate } from '../../render/template.ts';
import { WorldError, loadWorld } from '../../sandbox/world.ts';
import { marketsToSchedule } from '../../ops/schedules.ts';
import { ROOT } from '../helpers/stack.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = Array<string | number>;

const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'adloop-fuzz-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Every path into a JSON document (objects' keys and arrays' first items), up to `depth`. */
function pathsOf(doc: Json, depth = 6, at: Path = []): Path[] {
  if (depth === 0 || doc === null || typeof doc !== 'object') return [];
  const keys: Array<string | number> = Array.isArray(doc)
    ? doc.slice(0, 3).map((_, i) => i)
    : Object.keys(doc);
  return keys.flatMap((k) => {
    const child = (doc as Record<string | number, Json>)[k]!;
    return [[...at, k], ...pathsOf(child, depth - 1, [...at, k])];
  });
}

/** `artists[3].popularity.SE`: how the errors name a field (core/validation.ts fieldPath). */
const fieldName = (p: Path) =>
  p.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join('');

type Mutation = { kind: 'delete' } | { kind: 'set'; value: Json };

function mutate(doc: Json, at: Path, m: Mutation): Json {
  const copy = structuredClone(doc);
  let parent = copy as Record<string | number, Json>;
  for (const k of at.slice(0, -1)) parent = parent[k] as Record<string | number, Json>;
  const last = at.at(-1)!;
  if (m.kind === 'set') parent[last] = m.value;
  else if (Array.isArray(parent)) parent.splice(last as number, 1);
  else delete parent[last];
  return copy;
}

const junk: fc.Arbitrary<Json> = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.double({ noNaN: true }),
  fc.constantFrom<Json>(null, true, false, '', -1, 0, 1e308, '../../etc/passwd', [], {}),
  fc.array(fc.integer(), { maxLength: 3 }),
);

const mutation = (paths: Path[]) =>
  fc.tuple(
    fc.constantFrom(...paths),
    fc.oneof(
      fc.constant<Mutation>({ kind: 'delete' }),
      junk.map<Mutation>((value) => ({ kind: 'set', value })),
    ),
  );

/** The error names at least one field: an indented `<field>: <what is wrong>` line. */
const NAMES_A_FIELD = /^ {2}\S[^\n]*: \S/m;

let rejected = 0;
/** Checks the error's type (and counts it: a fuzzer that never produces bad input tests nothing). */
function expectNamedError(err: unknown, types: Array<new (...a: never[]) => Error>) {
  rejected++;
  assert.ok(
    types.some((T) => err instanceof T),
    `unexpected ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`,
  );
  return (err as Error).message;
}

/** Most generated inputs must really be bad: the properties above hold for something. */
function expectMostlyRejected(what: string) {
  assert.ok(rejected > RUNS / 3, `${what}: only ${rejected} of ${RUNS} inputs were rejected`);
  rejected = 0;
}

describe('bad input (generated)', () => {
  it('catalogs: accepted, or a CatalogError naming the field', () => {
    const file = path.join(ROOT, 'catalog/demo/catalog.json');
    const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as Json;
    const baseDir = path.dirname(file);
    fc.assert(
      fc.property(mutation(pathsOf(doc)), ([at, m]) => {
        const bad = mutate(doc, at, m);
        try {
          parseCatalog(bad, baseDir, 'catalog');
        } catch (err) {
          const message = expectNamedError(err, [CatalogError]);
          assert.match(message, /^catalog is invalid:\n/);
          assert.match(message, NAMES_A_FIELD);
          // A value of the wrong kind where an object or list was is named at its own place.
          if (m.kind === 'set' && (m.value === null || typeof m.value === 'boolean'))
            assert.ok(
              message.includes(fieldName(at)) || message.includes(fieldName(at.slice(0, -1))),
              `${fieldName(at)} not named in:\n${message}`,
            );
        }
      }),
      { numRuns: RUNS },
    );
    expectMostlyRejected('catalogs');
  });

  it('catalog rows: the fast path takes only what the schema takes, as the schema gives it', () => {
    const row: Json = {
      artist_id: 'a01',
      name: 'Nova Moreau',
      genre: 'pop',
      image: 'images/a01.jpg',
      market: 'SE',
      popularity: 0.5,
      trend: 0.01,
      embedding: [0.1, -0.2, 0.3],
    };
    const text = fc.oneof(
      fc.string({ maxLength: 8 }),
      fc.constantFrom(' pop', 'pop ', '\tpop', 'x'.repeat(201), 'x'.repeat(200), 'SE', 'se', 'XX'),
    );
    const value = fc.oneof(
      junk,
      text,
      fc.double({ min: -2, max: 2 }),
      fc.constantFrom<Json>(-0, 1, 1.0000001, '0.5', [1], [1, 2], [1, '2'], [1, null]),
      fc.array(fc.double({ noNaN: true }), { maxLength: 4 }),
    );
    const fields = Object.keys(row);
    let fast = 0;
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.constantFrom(...fields), fc.option(value, { nil: undefined, freq: 4 })),
          { maxLength: 3 },
        ),
        (changes) => {
          const raw: Record<string, unknown> = { ...(row as Record<string, unknown>) };
          for (const [k, v] of changes) {
            if (v === undefined) delete raw[k];
            else raw[k] = v;
          }
          const plain = plainRow(raw);
          const schema = schemaRow(raw);
          if (plain === null) return;
          fast++;
          assert.ok(
            'data' in schema,
            `fast path took a row the schema refuses: ${JSON.stringify(raw)}`,
          );
          assert.deepEqual(plain, schema.data);
        },
      ),
      { numRuns: RUNS * 4 },
    );
    // Both kinds happened: some rows took the fast path, and the rest went to the schema.
    assert.ok(fast > 0 && fast < RUNS * 4, `${fast} of ${RUNS * 4} rows took the fast path`);
  });

  it('worlds: accepted, or an error naming the field (or the catalog it points to)', () => {
    const file = path.join(ROOT, 'sandbox/worlds/demo.json');
    const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as { catalog: string } & Json;
    doc.catalog = path.resolve(path.dirname(file), doc.catalog);
    const out = path.join(tmp, 'world.json');
    fc.assert(
      fc.property(mutation(pathsOf(doc)), ([at, m]) => {
        fs.writeFileSync(out, JSON.stringify(mutate(doc, at, m)));
        try {
          loadWorld(out);
        } catch (err) {
          const message = expectNamedError(err, [WorldError, CatalogError]);
          assert.ok(
            NAMES_A_FIELD.test(message) || /cannot read catalog /.test(message),
            `no field named in:\n${message}`,
          );
        }
      }),
      { numRuns: RUNS },
    );
    expectMostlyRejected('worlds');
  });

  it('templates: accepted, or a TemplateError naming the template and the field', () => {
    const source = path.join(ROOT, 'templates/duotone');
    const dir = path.join(tmp, 'duotone');
    fs.cpSync(source, dir, { recursive: true });
    const doc = JSON.parse(fs.readFileSync(path.join(source, 'template.json'), 'utf8')) as Json;
    fc.assert(
      fc.property(mutation(pathsOf(doc)), ([at, m]) => {
        fs.writeFileSync(path.join(dir, 'template.json'), JSON.stringify(mutate(doc, at, m)));
        try {
          loadTemplate(dir);
        } catch (err) {
          const message = expectNamedError(err, [TemplateError]);
          assert.match(message, /^template "[^"]+" \(.*template\.json\) is invalid:\n/);
          assert.match(message, NAMES_A_FIELD);
        }
      }),
      { numRuns: RUNS },
    );
    expectMostlyRejected('templates');
  });

  it('configuration: accepted, or a ConfigError naming each bad variable', () => {
    const keys = [
      'ADS_PER_MARKET',
      'DEPLOY_SPARES',
      'DEPLOY_MODE',
      'DEPLOY_APPROVAL_TIMEOUT',
      'METRICS_ADDRESS',
      'META_REQUEST_TIMEOUT_MS',
      'MMP_PROVIDER',
      'MMP_REQUEST_TIMEOUT_MS',
      'TIKTOK_REQUEST_TIMEOUT_MS',
      'RANKING_POLICY',
      'RANKING_POLICY_BY_MARKET',
      'EXPLORATION_SHARE',
      'HEURISTIC_WEIGHTS',
      'RENDER_RATIOS',
      'PAYLOAD_KEY',
      'TEMPORAL_UI_PORT',
    ];
    const base = {
      META_ACCESS_TOKEN: 'token-for-fuzz',
    };
    const value = fc.oneof(
      fc.string({ maxLength: 10 }),
      fc.integer().map(String),
      fc.constantFrom('-1', '0', '1e9', 'NaN', 'yes', 'SE=ml', 'adjust', '::', '1:1,2:3'),
    );
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...keys), value, { maxKeys: 4 }), (env) => {
        try {
          const config = loadConfig({ ...base, ...env }, ROOT);
          assert.ok(Object.isFrozen(config));
        } catch (err) {
          const message = expectNamedError(err, [ConfigError]);
          const named = [...message.matchAll(/^ {2}([A-Z0-9_]+):/gm)].map((x) => x[1]!);
          assert.ok(named.length > 0, `no variable named in:\n${message}`);
          // Only variables that were set are blamed, or those they make required.
          for (const n of named)
            assert.ok(
              n in env || /^(ADJUST|BRANCH|TIKTOK)_/.test(n),
              `${n} blamed though not set:\n${message}`,
            );
          // No secret is echoed back.
          assert.ok(!message.includes(base.META_ACCESS_TOKEN));
        }
      }),
      { numRuns: RUNS },
    );
    expectMostlyRejected('configuration');
  });

  it('CLI arguments: a date, a time, a time zone, market lists', () => {
    const catalog = { CATALOG_PATH: path.join(ROOT, 'catalog/demo/catalog.json') };
    fc.assert(
      fc.property(fc.string({ maxLength: 14 }), (s) => {
        for (const [parse, label] of [
          [(v: string) => parseIsoDate(v, '--date'), '--date'],
          [(v: string) => parseTimeOfDay(v, '--at'), '--at'],
          [(v: string) => parseTimeZone(v, '--tz'), '--tz'],
          [(v: string) => marketsToSchedule(catalog, v), '--markets'],
        ] as const) {
          try {
            parse(s);
          } catch (err) {
            assert.ok(err instanceof Error && !(err instanceof TypeError), String(err));
            assert.ok(err.message.includes(label), `"${label}" not named: ${err.message}`);
          }
        }
      }),
      { numRuns: RUNS * 4 },
    );
    // Accepted values are what they claim to be.
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1900-01-01'), max: new Date('2200-01-01'), noInvalidDate: true }),
        (d) => {
          const iso = d.toISOString().slice(0, 10);
          assert.equal(parseIsoDate(iso), iso);
        },
      ),
    );
  });
});
