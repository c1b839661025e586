// Google Ads Query Language (https://developers.google.com/google-ads/api/docs/query/grammar), the
// subset adloop and its operators use:
//   SELECT field, ... FROM resource
//   [WHERE condition AND condition ...] [ORDER BY field [ASC|DESC], ...] [LIMIT n]
//   [PARAMETERS include_drafts = true]
// with the operators =, !=, >, >=, <, <=, IN, NOT IN, LIKE, NOT LIKE, CONTAINS ANY / ALL / NONE,
// IS NULL, IS NOT NULL, BETWEEN and DURING. Pure: a query is parsed and checked against a schema
// (the fields each resource has), then evaluated over flat rows (field path -> value) that the
// caller produces. Errors are the QueryError enum (google/ads/googleads/v24/errors/query_error.proto)
// with the position and text they are about.
import { addDays } from '../../core/dates.ts';

const text = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

export type FieldType = 'string' | 'int64' | 'double' | 'enum' | 'bool' | 'date' | 'list';

export interface FieldDef {
  type: FieldType;
  /** Enum values a condition may name (checked with BAD_ENUM_CONSTANT). */
  values?: readonly string[];
}

export interface ResourceDef {
  /** Attribute fields of this resource, by their full path (`campaign.name`). */
  fields: Record<string, FieldDef>;
  /** Resources whose attributes may be selected with this one (`campaign` from `ad_group`). */
  related?: readonly string[];
  /** Metrics (`metrics.impressions`) and segments (`segments.date`) this resource reports. */
  metrics?: readonly string[];
  segments?: readonly string[];
}

export interface GaqlSchema {
  resources: Record<string, ResourceDef>;
  /** Every metric and segment field, by full path. */
  metrics: Record<string, FieldDef>;
  segments: Record<string, FieldDef>;
  /**
   * Segments that cannot be selected (or filtered) with some metrics, e.g. conversion segments
   * with metrics.impressions: PROHIBITED_SEGMENT_WITH_METRIC_IN_SELECT_OR_WHERE_CLAUSE.
   */
  segmentMetricConflicts?: Array<{ segments: readonly string[]; metrics: readonly string[] }>;
}

export class GaqlError extends Error {
  constructor(
    /** QueryError enum name. */
    readonly code: string,
    message: string,
    /** The text the error is about, when one (the error's trigger). */
    readonly trigger?: string,
  ) {
    super(message);
  }
}

type Value = string | number | boolean;
export type Operator =
  | '='
  | '!='
  | '>'
  | '>='
  | '<'
  | '<='
  | 'IN'
  | 'NOT IN'
  | 'LIKE'
  | 'NOT LIKE'
  | 'CONTAINS ANY'
  | 'CONTAINS ALL'
  | 'CONTAINS NONE'
  | 'IS NULL'
  | 'IS NOT NULL'
  | 'BETWEEN'
  | 'DURING';

export interface Condition {
  field: string;
  op: Operator;
  /** One value, or a list (IN, CONTAINS, BETWEEN's two). */
  values: Value[];
}

export interface Query {
  select: string[];
  from: string;
  where: Condition[];
  orderBy: Array<{ field: string; desc: boolean }>;
  limit: number | null;
  parameters: Record<string, string>;
}

interface Token {
  kind: 'word' | 'number' | 'string' | 'punct';
  text: string;
  /** The string literal's content. */
  value?: string;
  at: number;
}

function tokenize(q: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < q.length) {
    const c = q[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      let value = '';
      while (j < q.length && q[j] !== c) {
        if (q[j] === '\n')
          throw new GaqlError(
            'PROHIBITED_NEWLINE_IN_STRING',
            'Error in query: newline in a string.',
          );
        if (q[j] === '\\' && j + 1 < q.length) j++;
        value += q[j];
        j++;
      }
      if (j >= q.length)
        throw new GaqlError(
          'STRING_NOT_TERMINATED',
          `Error in query: unterminated string at position ${i}.`,
          q.slice(i),
        );
      out.push({ kind: 'string', text: q.slice(i, j + 1), value, at: i });
      i = j + 1;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][\w.]*/.exec(q.slice(i))!;
      out.push({ kind: 'word', text: m[0], at: i });
      i += m[0].length;
    } else if (/[-\d]/.test(c)) {
      const m = /^-?\d+(\.\d+)?/.exec(q.slice(i));
      if (!m)
        throw new GaqlError('BAD_SYMBOL', `Error in query: unexpected '${c}' at position ${i}.`, c);
      out.push({ kind: 'number', text: m[0], at: i });
      i += m[0].length;
    } else {
      const m = /^(!=|>=|<=|[=<>(),])/.exec(q.slice(i));
      if (!m)
        throw new GaqlError('BAD_SYMBOL', `Error in query: unexpected '${c}' at position ${i}.`, c);
      out.push({ kind: 'punct', text: m[0], at: i });
      i += m[0].length;
    }
  }
  return out;
}

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  peek(): Token | undefined {
    return this.tokens[this.i];
  }
  next(what: string): Token {
    const t = this.tokens[this.i++];
    if (!t)
      throw new GaqlError(
        'UNEXPECTED_END_OF_QUERY',
        `Error in query: expected ${what}, found the end of the query.`,
      );
    return t;
  }
  isWord(...words: string[]): boolean {
    const t = this.peek();
    return t?.kind === 'word' && words.includes(t.text.toUpperCase());
  }
  word(word: string, code: string): void {
    if (!this.isWord(word)) {
      const t = this.peek();
      throw new GaqlError(
        code,
        `Error in query: expected ${word}${t ? ` at position ${t.at}, found '${t.text}'` : ''}.`,
        t?.text,
      );
    }
    this.i++;
  }
  punct(p: string, code = 'UNEXPECTED_INPUT'): void {
    const t = this.next(`'${p}'`);
    if (t.text !== p)
      throw new GaqlError(
        code,
        `Error in query: expected '${p}' at position ${t.at}, found '${t.text}'.`,
        t.text,
      );
  }
  field(clause: string): string {
    const t = this.next(`a field name in ${clause}`);
    if (t.kind !== 'word')
      throw new GaqlError(
        'BAD_FIELD_NAME',
        `Error in ${clause}: '${t.text}' at position ${t.at} is not a field name.`,
        t.text,
      );
    return t.text;
  }
  value(): Value {
    const t = this.next('a value');
    if (t.kind === 'string') return t.value!;
    if (t.kind === 'number') return Number(t.text);
    if (t.kind === 'word') {
      const u = t.text.toUpperCase();
      if (u === 'TRUE' || u === 'FALSE') return u === 'TRUE';
      // A bare word is an enum constant (ENABLED) or a DURING range (LAST_7_DAYS).
      return t.text;
    }
    throw new GaqlError(
      'BAD_VALUE',
      `Error in query: '${t.text}' at position ${t.at} is not a value.`,
      t.text,
    );
  }
  list(): Value[] {
    const t = this.peek();
    if (t?.text !== '(')
      throw new GaqlError(
        'EXPECTED_LIST',
        `Error in query: expected a list in parentheses${t ? ` at position ${t.at}` : ''}.`,
        t?.text,
      );
    this.i++;
    const out: Value[] = [];
    if (this.peek()?.text === ')') {
      throw new GaqlError(
        'PROHIBITED_EMPTY_LIST_IN_CONDITION',
        'Error in query: a list in a condition must not be empty.',
      );
    }
    for (;;) {
      out.push(this.value());
      const sep = this.next("',' or ')'");
      if (sep.text === ')') return out;
      if (sep.text !== ',')
        throw new GaqlError(
          'UNEXPECTED_INPUT',
          `Error in query: unexpected '${sep.text}' at position ${sep.at}.`,
          sep.text,
        );
    }
  }
}

/** Parses a query's syntax (no schema check). */
export function parseGaql(text: string): Query {
  const p = new Parser(tokenize(text));
  if (!p.isWord('SELECT')) {
    throw new GaqlError(
      'EXPECTED_SELECT',
      'Error in query: expected SELECT at the start of the query.',
      p.peek()?.text,
    );
  }
  p.word('SELECT', 'EXPECTED_SELECT');
  const select: string[] = [];
  do {
    select.push(p.field('SELECT clause'));
  } while (p.peek()?.text === ',' && p.next(','));
  if (!p.isWord('FROM')) {
    const t = p.peek();
    throw new GaqlError(
      'EXPECTED_FROM',
      `Error in query: expected FROM${t ? ` at position ${t.at}, found '${t.text}'` : ''}.`,
      t?.text,
    );
  }
  p.word('FROM', 'EXPECTED_FROM');
  const fromToken = p.next('a resource name after FROM');
  if (fromToken.kind !== 'word' || fromToken.text.includes('.'))
    throw new GaqlError(
      'BAD_RESOURCE_TYPE_IN_FROM_CLAUSE',
      `Error in FROM clause: '${fromToken.text}' is not a resource.`,
      fromToken.text,
    );
  const query: Query = {
    select,
    from: fromToken.text,
    where: [],
    orderBy: [],
    limit: null,
    parameters: {},
  };
  if (p.isWord('WHERE')) {
    p.word('WHERE', 'UNEXPECTED_INPUT');
    do query.where.push(condition(p));
    while (p.isWord('AND') && p.next('AND'));
  }
  if (p.isWord('ORDER')) {
    p.word('ORDER', 'UNEXPECTED_INPUT');
    p.word('BY', 'EXPECTED_BY');
    do {
      const field = p.field('ORDER BY clause');
      let desc = false;
      if (p.isWord('ASC', 'DESC')) desc = p.next('ASC or DESC').text.toUpperCase() === 'DESC';
      query.orderBy.push({ field, desc });
    } while (p.peek()?.text === ',' && p.next(','));
  }
  if (p.isWord('LIMIT')) {
    p.word('LIMIT', 'UNEXPECTED_INPUT');
    const t = p.next('a number after LIMIT');
    if (t.kind !== 'number' || !/^-?\d+$/.test(t.text))
      throw new GaqlError(
        'BAD_LIMIT_VALUE',
        `Error in LIMIT clause: '${t.text}' is not an integer.`,
        t.text,
      );
    if (Number(t.text) < 1)
      throw new GaqlError(
        'LIMIT_VALUE_TOO_LOW',
        'Error in LIMIT clause: the limit must be at least 1.',
        t.text,
      );
    query.limit = Number(t.text);
  }
  if (p.isWord('PARAMETERS')) {
    p.word('PARAMETERS', 'UNEXPECTED_INPUT');
    do {
      const name = p.next('a parameter name');
      p.punct('=');
      const v = p.next('a parameter value');
      query.parameters[name.text] = v.value ?? v.text;
    } while (p.peek()?.text === ',' && p.next(','));
  }
  const rest = p.peek();
  if (rest)
    throw new GaqlError(
      'UNEXPECTED_INPUT',
      `Error in query: unexpected input '${rest.text}' at position ${rest.at}.`,
      rest.text,
    );
  return query;
}

function condition(p: Parser): Condition {
  const field = p.field('WHERE clause');
  const t = p.next('an operator');
  const u = t.text.toUpperCase();
  if (t.kind === 'punct' && ['=', '!=', '>', '>=', '<', '<='].includes(t.text))
    return { field, op: t.text as Operator, values: [p.value()] };
  if (u === 'IN') return { field, op: 'IN', values: p.list() };
  if (u === 'LIKE') return { field, op: 'LIKE', values: [p.value()] };
  if (u === 'NOT') {
    const n = p.next('IN or LIKE after NOT').text.toUpperCase();
    if (n === 'IN') return { field, op: 'NOT IN', values: p.list() };
    if (n === 'LIKE') return { field, op: 'NOT LIKE', values: [p.value()] };
  } else if (u === 'CONTAINS') {
    const n = p.next('ANY, ALL or NONE after CONTAINS').text.toUpperCase();
    if (n === 'ANY' || n === 'ALL' || n === 'NONE')
      return { field, op: `CONTAINS ${n}`, values: p.list() };
  } else if (u === 'IS') {
    if (p.isWord('NOT')) {
      p.next('NOT');
      p.word('NULL', 'BAD_OPERATOR');
      return { field, op: 'IS NOT NULL', values: [] };
    }
    p.word('NULL', 'BAD_OPERATOR');
    return { field, op: 'IS NULL', values: [] };
  } else if (u === 'BETWEEN') {
    const a = p.value();
    if (!p.isWord('AND'))
      throw new GaqlError(
        'EXPECTED_AND',
        'Error in WHERE clause: BETWEEN expects two values joined by AND.',
        p.peek()?.text,
      );
    p.next('AND');
    return { field, op: 'BETWEEN', values: [a, p.value()] };
  } else if (u === 'DURING') {
    return { field, op: 'DURING', values: [p.value()] };
  }
  throw new GaqlError(
    'BAD_OPERATOR',
    `Error in WHERE clause: invalid operator '${t.text}' at position ${t.at}.`,
    t.text,
  );
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const realDate = (v: unknown): v is string =>
  typeof v === 'string' && DATE.test(v) && new Date(`${v}T00:00:00Z`).toISOString().startsWith(v);

/**
 * The predefined date ranges of DURING (https://developers.google.com/google-ads/api/docs/query/date-ranges),
 * as [from, to] relative to today: the ones the sandbox serves.
 */
export function duringRange(name: string, today: string): [string, string] | null {
  const monthStart = `${today.slice(0, 7)}-01`;
  const lastMonthEnd = addDays(monthStart, -1);
  const ranges: Record<string, [string, string]> = {
    TODAY: [today, today],
    YESTERDAY: [addDays(today, -1), addDays(today, -1)],
    LAST_7_DAYS: [addDays(today, -7), addDays(today, -1)],
    LAST_14_DAYS: [addDays(today, -14), addDays(today, -1)],
    LAST_30_DAYS: [addDays(today, -30), addDays(today, -1)],
    THIS_MONTH: [monthStart, today],
    LAST_MONTH: [`${lastMonthEnd.slice(0, 7)}-01`, lastMonthEnd],
  };
  return ranges[name] ?? null;
}

/**
 * The core date segments (https://developers.google.com/google-ads/api/docs/query/segmentation):
 * they may be filtered without being selected, and selecting one needs a finite range of them in
 * WHERE ("a finite date range composed of the core date segments must be specified").
 */
const CORE_DATE_SEGMENTS = new Set(['segments.date']);

export interface CheckedQuery extends Query {
  /** The finite range the date conditions allow, or null when they do not bound it. */
  dateRange: [string, string] | null;
  /** Selected (or filtered) segments: what the rows must be split by. */
  segments: Set<string>;
  hasMetrics: boolean;
  /** The type of every field the query names (numbers compare as numbers). */
  types: Record<string, FieldType>;
}

/** Parses and checks a query against the schema; `today` resolves DURING. */
export function checkGaql(text: string, schema: GaqlSchema, today: string): CheckedQuery {
  const q = parseGaql(text);
  const resource = schema.resources[q.from];
  if (!resource) {
    throw new GaqlError(
      'BAD_RESOURCE_TYPE_IN_FROM_CLAUSE',
      `Error in FROM clause: invalid resource name '${q.from}'.`,
      q.from,
    );
  }
  const defOf = (field: string, clause: string): FieldDef => {
    const head = field.split('.')[0]!;
    if (head === 'metrics') {
      const def = schema.metrics[field];
      if (!def)
        throw new GaqlError(
          'UNRECOGNIZED_FIELD',
          `Error in ${clause}: unrecognized field '${field}'.`,
          field,
        );
      if (!resource.metrics?.includes(field))
        throw new GaqlError(
          'PROHIBITED_METRIC_IN_SELECT_OR_WHERE_CLAUSE',
          `Error in ${clause}: '${field}' cannot be selected with resource '${q.from}'.`,
          field,
        );
      return def;
    }
    if (head === 'segments') {
      const def = schema.segments[field];
      if (!def)
        throw new GaqlError(
          'UNRECOGNIZED_FIELD',
          `Error in ${clause}: unrecognized field '${field}'.`,
          field,
        );
      if (!resource.segments?.includes(field))
        throw new GaqlError(
          'PROHIBITED_SEGMENT_IN_SELECT_OR_WHERE_CLAUSE',
          `Error in ${clause}: '${field}' cannot be selected with resource '${q.from}'.`,
          field,
        );
      return def;
    }
    const owner = schema.resources[head];
    const def = owner?.fields[field];
    if (!def)
      throw new GaqlError(
        'UNRECOGNIZED_FIELD',
        `Error in ${clause}: unrecognized field '${field}'.`,
        field,
      );
    if (head !== q.from && !resource.related?.includes(head))
      throw new GaqlError(
        'PROHIBITED_RESOURCE_TYPE_IN_SELECT_CLAUSE',
        `Error in ${clause}: '${field}' comes from a resource that cannot be selected with '${q.from}'.`,
        field,
      );
    return def;
  };
  const types: Record<string, FieldType> = {};
  const seen = new Set<string>();
  for (const f of q.select) {
    types[f] = defOf(f, 'SELECT clause').type;
    if (seen.has(f))
      throw new GaqlError(
        'PROHIBITED_FIELD_COMBINATION_IN_SELECT_CLAUSE',
        `Error in SELECT clause: '${f}' is selected twice.`,
        f,
      );
    seen.add(f);
  }
  let from: string | null = null;
  let to: string | null = null;
  const bound = (lo: string | null, hi: string | null) => {
    if (lo !== null && (from === null || lo > from)) from = lo;
    if (hi !== null && (to === null || hi < to)) to = hi;
  };
  for (const c of q.where) {
    const def = defOf(c.field, 'WHERE clause');
    types[c.field] = def.type;
    if (c.field.startsWith('segments.') && !CORE_DATE_SEGMENTS.has(c.field) && !seen.has(c.field))
      throw new GaqlError(
        'EXPECTED_REFERENCED_FIELD_IN_SELECT_CLAUSE',
        `Error in WHERE clause: the segment '${c.field}' must also be selected.`,
        c.field,
      );
    checkCondition(c, def);
    if (def.type === 'date') {
      const v = c.values as string[];
      if (c.op === 'BETWEEN') bound(v[0]!, v[1]!);
      else if (c.op === 'DURING') bound(...duringRange(String(v[0]), today)!);
      else if (c.op === '=') bound(v[0]!, v[0]!);
      else if (c.op === '>=') bound(v[0]!, null);
      else if (c.op === '>') bound(addDays(v[0]!, 1), null);
      else if (c.op === '<=') bound(null, v[0]!);
      else if (c.op === '<') bound(null, addDays(v[0]!, -1));
      else if (c.op === 'IN') bound([...v].sort()[0]!, [...v].sort().at(-1)!);
    }
  }
  for (const o of q.orderBy) {
    const def = defOf(o.field, 'ORDER BY clause');
    types[o.field] = def.type;
    if (def.type === 'list')
      throw new GaqlError(
        'PROHIBITED_FIELD_IN_ORDER_BY_CLAUSE',
        `Error in ORDER BY clause: '${o.field}' is a list and cannot be ordered by.`,
        o.field,
      );
  }
  for (const [k, v] of Object.entries(q.parameters)) {
    // PARAMETERS: include_drafts and omit_unselected_resource_names, each true or false.
    if (k !== 'include_drafts' && k !== 'omit_unselected_resource_names')
      throw new GaqlError(
        'BAD_PARAMETER_NAME',
        `Error in PARAMETERS clause: unknown parameter '${k}'.`,
        k,
      );
    if (v !== 'true' && v !== 'false')
      throw new GaqlError(
        'BAD_PARAMETER_VALUE',
        `Error in PARAMETERS clause: '${k}' must be true or false.`,
        v,
      );
  }
  const used = [...q.select, ...q.where.map((c) => c.field)];
  const metrics = used.filter((f) => f.startsWith('metrics.'));
  const segments = new Set(q.select.filter((f) => f.startsWith('segments.')));
  for (const rule of schema.segmentMetricConflicts ?? []) {
    const s = [...segments].find((f) => rule.segments.includes(f));
    const m = metrics.find((f) => rule.metrics.includes(f));
    if (s && m)
      throw new GaqlError(
        'PROHIBITED_SEGMENT_WITH_METRIC_IN_SELECT_OR_WHERE_CLAUSE',
        `Error in SELECT clause: '${s}' cannot be selected with '${m}'.`,
        s,
      );
  }
  const dateRange: [string, string] | null = from !== null && to !== null ? [from, to] : null;
  if ([...segments].some((s) => CORE_DATE_SEGMENTS.has(s)) && !dateRange)
    throw new GaqlError(
      'EXPECTED_FILTERS_ON_DATE_RANGE',
      'Error in WHERE clause: selecting segments.date requires a finite date range on it in the WHERE clause.',
      'segments.date',
    );
  if (dateRange && dateRange[0] > dateRange[1])
    throw new GaqlError(
      'DATE_RANGE_TOO_NARROW',
      'Error in WHERE clause: the date range is empty.',
      `${dateRange[0]}..${dateRange[1]}`,
    );
  return { ...q, dateRange, segments, hasMetrics: metrics.length > 0, types };
}

function checkCondition(c: Condition, def: FieldDef) {
  const mismatch = () =>
    new GaqlError(
      'OPERATOR_FIELD_MISMATCH',
      `Error in WHERE clause: operator ${c.op} cannot be used with '${c.field}'.`,
      c.field,
    );
  const isList = def.type === 'list';
  if (c.op.startsWith('CONTAINS') !== isList && !c.op.startsWith('IS ')) throw mismatch();
  if ((c.op === 'LIKE' || c.op === 'NOT LIKE') && def.type !== 'string') throw mismatch();
  if ((c.op === 'BETWEEN' || c.op === 'DURING') && def.type !== 'date') throw mismatch();
  if (c.op === 'LIKE' || c.op === 'NOT LIKE') {
    if (typeof c.values[0] !== 'string')
      throw new GaqlError(
        'INVALID_VALUE_WITH_LIKE_OPERATOR',
        `Error in WHERE clause: LIKE needs a string on '${c.field}'.`,
        String(c.values[0]),
      );
  }
  if (c.op === 'BETWEEN') {
    for (const v of c.values)
      if (!realDate(v))
        throw new GaqlError(
          'INVALID_VALUE_WITH_BETWEEN_OPERATOR',
          `Error in WHERE clause: '${String(v)}' is not a date (YYYY-MM-DD) for BETWEEN.`,
          String(v),
        );
    return;
  }
  if (c.op === 'DURING') {
    if (duringRange(String(c.values[0]), '2000-01-01') === null)
      throw new GaqlError(
        'INVALID_VALUE_WITH_DURING_OPERATOR',
        `Error in WHERE clause: '${String(c.values[0])}' is not a date range for DURING.`,
        String(c.values[0]),
      );
    return;
  }
  for (const v of c.values) {
    if (def.type === 'date' && !realDate(v))
      throw new GaqlError(
        'INVALID_DATE_FORMAT',
        `Error in WHERE clause: '${String(v)}' is not a date (YYYY-MM-DD).`,
        String(v),
      );
    if (def.type === 'int64' || def.type === 'double') {
      if (typeof v === 'boolean' || (typeof v === 'string' && !/^-?\d+(\.\d+)?$/.test(v)))
        throw new GaqlError(
          'BAD_NUMBER',
          `Error in WHERE clause: '${String(v)}' is not a number for '${c.field}'.`,
          String(v),
        );
    }
    if (def.type === 'enum' && def.values && !def.values.includes(String(v)))
      throw new GaqlError(
        'BAD_ENUM_CONSTANT',
        `Error in WHERE clause: '${String(v)}' is not a value of '${c.field}'.`,
        String(v),
      );
    if (def.type === 'bool' && typeof v !== 'boolean')
      throw new GaqlError(
        'BAD_VALUE',
        `Error in WHERE clause: '${String(v)}' is not true or false.`,
        String(v),
      );
  }
}

/** A flat row: field path -> value (absent or null when the row has no value there). */
export type FlatRow = Record<string, unknown>;

/**
 * Whether `value` matches a LIKE pattern (`%` any run of characters, `_` one character). Greedy
 * matching that goes back only to the last `%`: time at most pattern x value, whatever the pattern.
 * (A pattern turned into a RegExp backtracks exponentially: '%a%a%a%a%a%a%a%a%a%a%a%a%b' against
 * 40 a's ran for minutes, with the sandbox's one thread at 100% CPU and every request waiting.)
 */
export function likeMatch(pattern: string, value: string): boolean {
  const p = [...pattern];
  const v = [...value];
  let i = 0;
  let j = 0;
  let star = -1;
  let resume = 0;
  while (j < v.length) {
    if (i < p.length && p[i] !== '%' && (p[i] === '_' || p[i] === v[j])) {
      i++;
      j++;
    } else if (i < p.length && p[i] === '%') {
      star = i++;
      resume = j;
    } else if (star >= 0) {
      i = star + 1;
      j = ++resume;
    } else return false;
  }
  while (i < p.length && p[i] === '%') i++;
  return i === p.length;
}

function compare(a: unknown, b: Value, type?: FieldType): number {
  if (type === 'int64' || type === 'double' || typeof a === 'number' || typeof b === 'number') {
    return Number(a) - Number(b);
  }
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

function matches(row: FlatRow, c: Condition, today: string, type?: FieldType): boolean {
  const v = row[c.field];
  // A row summed over the date range (segments.date filtered, not selected) has no date of its
  // own: its source already kept to the range (CheckedQuery.dateRange).
  if (v === undefined && CORE_DATE_SEGMENTS.has(c.field)) return true;
  const listed = (x: unknown) => c.values.some((w) => compare(x, w, type) === 0);
  switch (c.op) {
    case 'IS NULL':
      return v === undefined || v === null;
    case 'IS NOT NULL':
      return v !== undefined && v !== null;
    case 'CONTAINS ANY':
      return Array.isArray(v) && v.some(listed);
    case 'CONTAINS ALL':
      return Array.isArray(v) && c.values.every((w) => v.some((x) => compare(x, w) === 0));
    case 'CONTAINS NONE':
      return !Array.isArray(v) || !v.some(listed);
    default:
  }
  if (v === undefined || v === null)
    return c.op === '!=' || c.op === 'NOT IN' || c.op === 'NOT LIKE';
  switch (c.op) {
    case '=':
      return compare(v, c.values[0]!, type) === 0;
    case '!=':
      return compare(v, c.values[0]!, type) !== 0;
    case '>':
      return compare(v, c.values[0]!, type) > 0;
    case '>=':
      return compare(v, c.values[0]!, type) >= 0;
    case '<':
      return compare(v, c.values[0]!, type) < 0;
    case '<=':
      return compare(v, c.values[0]!, type) <= 0;
    case 'IN':
      return listed(v);
    case 'NOT IN':
      return !listed(v);
    case 'LIKE':
      return likeMatch(String(c.values[0]), text(v));
    case 'NOT LIKE':
      return !likeMatch(String(c.values[0]), text(v));
    case 'BETWEEN':
      return text(v) >= String(c.values[0]) && text(v) <= String(c.values[1]);
    case 'DURING': {
      const [from, to] = duringRange(String(c.values[0]), today)!;
      return text(v) >= from && text(v) <= to;
    }
  }
}

/**
 * Filters, orders, limits and projects flat rows: each result holds the selected fields, nested
 * by their paths ({campaign: {id}, metrics: {impressions}}), plus the FROM resource's
 * resource_name, as Google returns it.
 */
export function evaluateGaql(
  q: Query & { types?: Record<string, FieldType> },
  rows: FlatRow[],
  today: string,
): Array<Record<string, unknown>> {
  const types = q.types ?? {};
  let out = rows.filter((r) => q.where.every((c) => matches(r, c, today, types[c.field])));
  if (q.orderBy.length > 0) {
    out = [...out].sort((a, b) => {
      for (const o of q.orderBy) {
        const x = a[o.field];
        const y = b[o.field];
        if (x === y) continue;
        if (x === undefined || x === null) return o.desc ? 1 : -1;
        if (y === undefined || y === null) return o.desc ? -1 : 1;
        const d = compare(x, y as Value, types[o.field]);
        if (d !== 0) return o.desc ? -d : d;
      }
      return 0;
    });
  }
  if (q.limit !== null) out = out.slice(0, q.limit);
  const keepName = q.parameters.omit_unselected_resource_names !== 'true';
  const fields = keepName ? [`${q.from}.resource_name`, ...q.select] : q.select;
  return out.map((r) => project(r, fields));
}

function project(row: FlatRow, fields: string[]): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const f of fields) {
    const v = row[f];
    if (v === undefined || v === null) continue;
    const parts = f.split('.');
    let at = result;
    for (const p of parts.slice(0, -1)) at = (at[p] ??= {}) as Record<string, unknown>;
    at[parts.at(-1)!] = v;
  }
  return result;
}

/** Flattens a resource object into paths below `prefix` (lists stay whole). */
export function flatten(prefix: string, obj: Record<string, unknown>, into: FlatRow = {}): FlatRow {
  for (const [k, v] of Object.entries(obj)) {
    if (k.startsWith('_')) continue;
    const path = `${prefix}.${k}`;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v))
      flatten(path, v as Record<string, unknown>, into);
    else into[path] = v;
  }
  return into;
}
