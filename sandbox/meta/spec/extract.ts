// Extracts the facts the sandbox's Graph server validates against from Meta's own API specs: the
// JSON node specs under api_specs/specs/ in facebook/facebook-business-sdk-codegen (the Node SDK
// is generated from them). The result, graph-spec.json next to this file, holds for each node type
// its fields and their types, the params of every endpoint adloop uses (name, type, required) and
// the values of every enum those name. Re-run when the SDK moves to a new Graph version:
//   git clone https://github.com/facebook/facebook-business-sdk-codegen /tmp/codegen
//   npx tsx sandbox/meta/spec/extract.ts /tmp/codegen
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

interface Param {
  name: string;
  type: string;
  required?: boolean;
}
interface Api {
  method: string;
  endpoint?: string;
  params: Param[];
}
interface NodeSpec {
  fields?: Array<{ name: string; type: string }>;
  apis?: Api[];
}

/** Node types whose fields are read (fields=) or written as structures. */
const NODES = [
  'Ad',
  'AdAccount',
  'AdCreative',
  'AdImage',
  'AdReportRun',
  'AdSet',
  'AdVideo',
  'AdsInsights',
  'AdsActionStats',
  'Campaign',
  'AdPromotedObject',
  'AdCreativeObjectStorySpec',
  'AdCreativeLinkData',
  'AdCreativeLinkDataCallToAction',
  'AdCreativeLinkDataCallToActionValue',
  'Targeting',
  'TargetingGeoLocation',
  // Video ads: the video's processing status and thumbnails, a creative's video_data, and the
  // asset feed a placement-customised creative carries (asset_feed_spec with its
  // asset_customization_rules).
  'AdCreativeVideoData',
  'VideoStatus',
  'VideoStatusError',
  'VideoStatusUploadingPhase',
  'VideoStatusProcessingPhase',
  'VideoStatusPublishingPhase',
  'VideoThumbnail',
  'AdAssetFeedSpec',
  'AdAssetFeedSpecVideo',
  'AdAssetFeedSpecImage',
  'AdAssetFeedSpecBody',
  'AdAssetFeedSpecTitle',
  'AdAssetFeedSpecLinkURL',
  'AdAssetFeedSpecAssetLabel',
  'AdAssetFeedSpecAssetCustomizationRule',
  'AdAssetCustomizationRuleCustomizationSpec',
  // What `adloop check` reads: the page ads run as and the app they promote.
  'Page',
  'Application',
];

/** Endpoints adloop calls, per node: `METHOD edge` ('' is the node itself). */
const ENDPOINTS: Record<string, string[]> = {
  AdAccount: [
    'GET ',
    'GET campaigns',
    'POST campaigns',
    'GET adsets',
    'POST adsets',
    'GET ads',
    'POST ads',
    'GET adcreatives',
    'POST adcreatives',
    'GET adimages',
    'POST adimages',
    'GET advideos',
    'POST advideos',
    'GET insights',
    'POST insights',
  ],
  Campaign: ['GET ', 'POST ', 'GET ads', 'GET adsets', 'GET insights', 'POST insights'],
  AdSet: ['GET ', 'POST ', 'GET ads', 'GET insights', 'POST insights'],
  Ad: ['GET ', 'POST ', 'GET insights', 'POST insights'],
  AdCreative: ['GET ', 'POST '],
  AdVideo: ['GET ', 'GET thumbnails'],
  AdReportRun: ['GET ', 'GET insights'],
  Page: ['GET '],
  Application: ['GET ', 'GET app_event_types'],
};

const root = process.argv[2];
if (!root) {
  console.error('usage: extract.ts <facebook-business-sdk-codegen checkout or git dir>');
  process.exit(2);
}
const git = (...args: string[]) => execFileSync('git', ['-C', root, ...args], { encoding: 'utf8' });
const read = (name: string): unknown => JSON.parse(git('show', `HEAD:api_specs/specs/${name}`));

const enumTypes = read('enum_types.json') as Array<{ name: string; values: string[] }>;
const enumsByName = new Map(enumTypes.map((e) => [e.name, e.values]));
const wanted = new Set<string>();
/** Enum names inside a type: `list<adcampaign_status>` names adcampaign_status. */
const noteEnums = (type: string) => {
  for (const t of type.split(/[<>,\s]+/)) if (enumsByName.has(t)) wanted.add(t);
};

const nodes: Record<string, Record<string, string>> = {};
const endpoints: Record<
  string,
  Record<string, Record<string, { type: string; required: boolean }>>
> = {};
for (const node of NODES) {
  const spec = read(`${node}.json`) as NodeSpec;
  nodes[node] = Object.fromEntries((spec.fields ?? []).map((f) => [f.name, f.type]));
  for (const t of Object.values(nodes[node])) noteEnums(t);
  for (const key of ENDPOINTS[node] ?? []) {
    const [method, edge] = key.split(' ') as [string, string];
    const api = (spec.apis ?? []).find((a) => a.method === method && (a.endpoint ?? '') === edge);
    if (!api) throw new Error(`${node}.json has no ${method} ${edge || '(node)'}`);
    endpoints[node] ??= {};
    endpoints[node][key.trim()] = Object.fromEntries(
      api.params.map((p) => [p.name, { type: p.type, required: p.required === true }]),
    );
    for (const p of api.params) noteEnums(p.type);
  }
}

const out = {
  source: 'https://github.com/facebook/facebook-business-sdk-codegen/tree/main/api_specs/specs',
  commit: git('rev-parse', 'HEAD').trim(),
  nodes,
  endpoints,
  enums: Object.fromEntries([...wanted].sort().map((n) => [n, enumsByName.get(n)])),
};
const file = path.join(path.dirname(new URL(import.meta.url).pathname), 'graph-spec.json');
fs.writeFileSync(file, JSON.stringify(out, null, 1) + '\n');
console.log(`wrote ${file}: ${NODES.length} nodes, ${wanted.size} enums`);
