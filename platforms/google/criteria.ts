// Targeting constants of App campaigns: country -> geo target constant, language -> language
// constant, for the markets adloop's catalog knows (core/countries.ts).
//
// Geo targets: a country's criterion id is 2000 + its ISO 3166-1 numeric code (Google's published
// "Geo targets" table, https://developers.google.com/google-ads/api/data/geotargets: United
// States 2840 = 2000 + 840, United Kingdom 2826, Germany 2276, Brazil 2076, Japan 2392...).
// core/countries.ts has no numeric codes, so they are listed here from ISO 3166-1.
//
// Languages: Google's published "Language codes" table
// (https://developers.google.com/google-ads/api/data/codes-formats#languages). Google names some
// languages by older codes: Hebrew is `iw`, Norwegian `no` (adloop's markets say `he`, `nb`), and
// Chinese is split by script (Taiwan and Hong Kong read traditional characters).

/** ISO 3166-1 numeric code of every country in core/countries.ts, by alpha-2. */
// prettier-ignore
const ISO_NUMERIC: Readonly<Record<string, number>> = {
  US: 840, GB: 826, DE: 276, FR: 250, ES: 724, IT: 380, NL: 528, BE: 56, SE: 752, NO: 578,
  DK: 208, FI: 246, PL: 616, CZ: 203, AT: 40, CH: 756, PT: 620, IE: 372, GR: 300, RO: 642,
  HU: 348, TR: 792, UA: 804, IL: 376, EG: 818, SA: 682, AE: 784, MA: 504, JO: 400, NG: 566,
  KE: 404, ZA: 710, IN: 356, PK: 586, BD: 50, ID: 360, MY: 458, SG: 702, TH: 764, VN: 704,
  PH: 608, JP: 392, KR: 410, TW: 158, HK: 344, AU: 36, NZ: 554, CA: 124, MX: 484, BR: 76,
  AR: 32, CL: 152, CO: 170, PE: 604, EC: 218, UY: 858, CR: 188, DO: 214, GT: 320, IS: 352,
};

/** Google's language criterion ids, by the ISO 639-1 code adloop's markets use. */
const LANGUAGE_IDS: Readonly<Record<string, number>> = {
  en: 1000,
  de: 1001,
  fr: 1002,
  es: 1003,
  it: 1004,
  ja: 1005,
  da: 1009,
  nl: 1010,
  fi: 1011,
  ko: 1012,
  // Google's `no` (Norwegian) covers Bokmål.
  nb: 1013,
  no: 1013,
  pt: 1014,
  sv: 1015,
  // Chinese: adloop's `zh` markets (Taiwan, Hong Kong) read traditional characters.
  zh: 1018,
  'zh-CN': 1017,
  'zh-TW': 1018,
  ar: 1019,
  bg: 1020,
  cs: 1021,
  el: 1022,
  hi: 1023,
  hu: 1024,
  id: 1025,
  is: 1026,
  // Google's `iw`.
  he: 1027,
  iw: 1027,
  pl: 1030,
  ru: 1031,
  ro: 1032,
  sk: 1033,
  uk: 1036,
  tr: 1037,
  vi: 1040,
  ur: 1041,
  th: 1044,
  bn: 1056,
  fa: 1064,
  ms: 1102,
};

export class GoogleTargetingError extends Error {
  override name = 'GoogleTargetingError';
}

/** The geo target constant id of an ISO 3166-1 alpha-2 country (US -> 2840). */
export function geoTargetId(country: string): number {
  const numeric = ISO_NUMERIC[country.toUpperCase()];
  if (numeric === undefined)
    throw new GoogleTargetingError(
      `no Google geo target for country ${JSON.stringify(country)}: add its ISO 3166-1 numeric code to platforms/google/criteria.ts`,
    );
  return 2000 + numeric;
}

/** `geoTargetConstants/{id}` of a country. */
export const geoTargetConstant = (country: string) => `geoTargetConstants/${geoTargetId(country)}`;

/** The language constant id of an ISO 639-1 language (en -> 1000). */
export function languageId(language: string): number {
  const id = LANGUAGE_IDS[language] ?? LANGUAGE_IDS[language.toLowerCase()];
  if (id === undefined)
    throw new GoogleTargetingError(
      `no Google language constant for language ${JSON.stringify(language)}: add it from Google's language codes table to platforms/google/criteria.ts`,
    );
  return id;
}

/** `languageConstants/{id}` of a language. */
export const languageConstant = (language: string) => `languageConstants/${languageId(language)}`;
