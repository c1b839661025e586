// Validation derived from Meta's own API specs (spec/graph-spec.json, extracted by
// spec/extract.ts from facebook/facebook-business-sdk-codegen api_specs/specs/*.json, the files
// the Node SDK is generated from): which fields each node type has and their types, which params
// each endpoint takes and which it requires, and every enum's values. Rules found only in Meta's
// documentation live in graph-rules.ts.
import fs from 'node:fs';
import { GraphError, graphErrors } from './graph-errors.ts';

interface SpecParam {
  type: string;
  required: boolean;
}
interface GraphSpec {
  source: string;
  commit: string;
  nodes: Record<string, Record<string, string>>;
  endpoints: Record<string, Record<string, Record<string, SpecParam>>>;
  enums: Record<string, string[]>;
}

export const spec = JSON.parse(
  fs.readFileSync(new URL('./spec/graph-spec.json', import.meta.url), 'utf8'),
) as GraphSpec;

/** Node type names as Graph spells them in its errors (and the spec files are named). */
export type NodeType =
  | 'Ad'
  | 'AdAccount'
  | 'AdCreative'
  | 'AdImage'
  | 'AdReportRun'
  | 'AdSet'
  | 'AdVideo'
  | 'AdsInsights'
  | 'Campaign'
  | 'Page'
  | 'Application'
  | 'VideoThumbnail';

/**
 * Params every Graph call may carry besides its endpoint's own (Graph API overview: access
 * tokens, field selection, paging, https://developers.facebook.com/docs/graph-api/results).
 */
const COMMON_PARAMS = new Set(['access_token', 'appsecret_proof', 'fields', 'pretty', 'locale']);
/**
 * The SDK sends the node's own id with every write (AbstractCrudObject.exportData holds it), and
 * Graph takes such writes: `id` naming the node of the path is accepted.
 */
const SELF_ID = 'id';
/** Params of list edges (cursor paging, https://developers.facebook.com/docs/graph-api/results). */
const PAGING_PARAMS = new Set(['limit', 'after', 'before', 'filtering', 'summary']);

/**
 * The field names of a `fields=` value, top level only: `a,b{c,d},e.limit(5)` gives a, b, e;
 * each nested selection is returned with its name so it can be checked against the field's type.
 */
export function parseFields(value: string): Array<{ name: string; nested: string | null }> {
  const out: Array<{ name: string; nested: string | null }> = [];
  let depth = 0;
  let start = 0;
  const push = (part: string) => {
    const t = part.trim();
    if (!t) return;
    const brace = t.indexOf('{');
    const head = brace >= 0 ? t.slice(0, brace) : t;
    const nested = brace >= 0 && t.endsWith('}') ? t.slice(brace + 1, -1) : null;
    out.push({ name: head.replace(/\..*$/, '').trim(), nested });
  };
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '{' || c === '(') depth++;
    else if (c === '}' || c === ')') depth--;
    else if (c === ',' && depth === 0) {
      push(value.slice(start, i));
      start = i + 1;
    }
    if (depth < 0) throw graphErrors.parseError(value);
  }
  if (depth !== 0) throw graphErrors.parseError(value);
  push(value.slice(start));
  return out;
}

/** The node type a field's spec type names, when it is one (`AdCreative`, `list<AdSet>`...). */
function nodeOf(type: string): string | null {
  const inner = /^list<(.+)>$/.exec(type)?.[1] ?? type;
  return spec.nodes[inner] ? inner : null;
}

/**
 * The top-level field names a read asks for, each one checked against the node type's fields
 * (nested selections against the type of their field when the spec has it): Graph refuses the
 * whole read with error 100 when any field does not exist on the node.
 * Source: api_specs/specs/<Node>.json "fields".
 */
export function requestedFields(node: NodeType, value: unknown, fallback: string[]): string[] {
  if (value === undefined || value === null || value === '') return fallback;
  if (typeof value !== 'string') throw graphErrors.invalidParam('Param fields must be a string');
  const check = (type: string, v: string): string[] =>
    parseFields(v).map(({ name, nested }) => {
      const fields = spec.nodes[type]!;
      if (!(name in fields)) throw graphErrors.nonexistingField(name, type);
      const sub = nested !== null ? nodeOf(fields[name]!) : null;
      if (sub && nested) check(sub, nested);
      return name;
    });
  return check(node, value);
}

/** The spec type of a field, e.g. `datetime` for Ad.created_time. */
export const fieldType = (node: NodeType, field: string): string | undefined =>
  spec.nodes[node]?.[field];

/** An enum's values by its spec name. */
export function enumValues(name: string): readonly string[] {
  const values = spec.enums[name];
  if (!values) throw new Error(`graph-spec.json has no enum ${name}`);
  return values;
}

/**
 * Checks a call's params against its endpoint's spec: no param the endpoint does not define,
 * every required one present, enums within their values, scalars of their type. Throws Graph's
 * error 100. Source: api_specs/specs/<Node>.json "apis" (method, endpoint, params).
 */
export function checkParams(
  node: string,
  endpoint: string,
  params: Record<string, unknown>,
  { list = false, self }: { list?: boolean; self?: string } = {},
): void {
  const defined = spec.endpoints[node]?.[endpoint];
  if (!defined) throw new Error(`graph-spec.json has no ${node} ${endpoint}`);
  for (const [name, value] of Object.entries(params)) {
    // fields= is checked against the node's fields by requestedFields.
    if (name === 'fields') continue;
    const p = defined[name];
    if (!p) {
      if (COMMON_PARAMS.has(name) || (list && PAGING_PARAMS.has(name))) continue;
      if (name === SELF_ID && value === self) continue;
      throw graphErrors.unknownParam(name);
    }
    checkType(name, p.type, value);
  }
  for (const [name, p] of Object.entries(defined))
    if (p.required && (params[name] === undefined || params[name] === ''))
      throw graphErrors.missingParam(name);
}

/**
 * A scalar param (or a field of a structure param) as text, undefined when absent: Graph takes a
 * string or a number alike for scalars (ids, enums, amounts are sent either way); anything else
 * is refused with error 100. `label` names it in the error, e.g. `promoted_object[application_id]`.
 */
export function scalarParam(
  params: Record<string, unknown>,
  name: string,
  label: string = name,
): string | undefined {
  const v = params[name];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' && typeof v !== 'number')
    throw graphErrors.invalidParam(`Param ${label} must be a string`);
  return String(v);
}

const isInt = (v: unknown) =>
  (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && /^-?\d+$/.test(v));

/** Checks one value against a spec type; structured types are checked by their own rules. */
function checkType(name: string, type: string, value: unknown): void {
  const list = /^list<(.+)>$/.exec(type)?.[1];
  if (list) {
    // A list of scalars may also be sent comma-separated (`effective_status=ACTIVE,PAUSED`).
    const items = typeof value === 'string' && !value.startsWith('[') ? value.split(',') : value;
    if (!Array.isArray(items)) throw graphErrors.invalidParam(`Param ${name} must be an array.`);
    items.forEach((v) => checkType(name, list, v));
    return;
  }
  const values = spec.enums[type];
  if (values) {
    if (!values.includes(String(value)))
      throw graphErrors.invalidParam(`Param ${name} must be one of {${values.join(', ')}}`);
    return;
  }
  switch (type) {
    case 'string':
      // A multipart file part (video_file_chunk, source) arrives as bytes.
      if (typeof value !== 'string' && typeof value !== 'number' && !Buffer.isBuffer(value))
        throw graphErrors.invalidParam(`Param ${name} must be a string.`);
      return;
    case 'int':
      if (!isInt(value)) throw graphErrors.invalidParam(`Param ${name} must be an integer.`);
      return;
    case 'unsigned int':
      if (!isInt(value) || Number(value) < 0)
        throw graphErrors.invalidParam(`Param ${name} must be a non-negative integer.`);
      return;
    case 'bool':
      if (!['true', 'false', true, false, '0', '1', 0, 1].includes(value as never))
        throw graphErrors.invalidParam(`Param ${name} must be a boolean.`);
      return;
    case 'datetime':
      if (
        typeof value !== 'number' &&
        (typeof value !== 'string' || Number.isNaN(Date.parse(value)))
      )
        throw graphErrors.invalidParam(`Param ${name} must be a valid datetime.`);
      return;
    default:
      // map, Object and node types (Targeting, AdCreative...): a JSON object.
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        throw graphErrors.invalidParam(`Param ${name} must be a JSON object.`);
  }
}

/**
 * The keys of a structure param that its spec type does not define (e.g. promoted_object keys
 * outside AdPromotedObject), refused like unknown params.
 */
export function checkStruct(name: string, node: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw graphErrors.invalidParam(`Param ${name} must be a JSON object.`);
  const fields = spec.nodes[node];
  if (!fields) throw new Error(`graph-spec.json has no node ${node}`);
  for (const [k, v] of Object.entries(value)) {
    const type = fields[k];
    if (!type) throw graphErrors.invalidParam(`Param ${name}[${k}] is not a valid field`);
    if (!nodeOf(type)) checkType(`${name}[${k}]`, type, v);
  }
  return value as Record<string, unknown>;
}

export { GraphError };
