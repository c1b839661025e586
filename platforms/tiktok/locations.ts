// TikTok targets countries by location id, which for countries is the GeoNames id of the country
// (6252001 is the United States). adloop speaks ISO 3166-1 alpha-2 market codes, so both the
// client (to build an ad group) and the sandbox (to know an ad group's market) translate here.
// Only the countries adloop may plausibly run in are listed; extend the table as markets grow.

/** ISO alpha-2 country code → TikTok location id (GeoNames country id). */
export const TIKTOK_COUNTRY_LOCATION_IDS: Readonly<Record<string, string>> = {
  AE: '290557',
  AR: '3865483',
  AT: '2782113',
  AU: '2077456',
  BD: '1210997',
  BE: '2802361',
  BG: '732800',
  BH: '290291',
  BR: '3469034',
  CA: '6251999',
  CH: '2658434',
  CL: '3895114',
  CO: '3686110',
  CR: '3624060',
  CY: '146669',
  CZ: '3077311',
  DE: '2921044',
  DK: '2623032',
  DO: '3508796',
  DZ: '2589581',
  EC: '3658394',
  EE: '453733',
  EG: '357994',
  ES: '2510769',
  FI: '660013',
  FR: '3017382',
  GB: '2635167',
  GR: '390903',
  GT: '3595528',
  HK: '1819730',
  HR: '3202326',
  HU: '719819',
  ID: '1643084',
  IE: '2963597',
  IL: '294640',
  IN: '1269750',
  IQ: '99237',
  IS: '2629691',
  IT: '3175395',
  JO: '248816',
  JP: '1861060',
  KE: '192950',
  KR: '1835841',
  KW: '285570',
  KZ: '1522867',
  LB: '272103',
  LK: '1227603',
  LT: '597427',
  LU: '2960313',
  LV: '458258',
  MA: '2542007',
  MX: '3996063',
  MY: '1733045',
  NG: '2328926',
  NL: '2750405',
  NO: '3144096',
  NZ: '2186224',
  OM: '286963',
  PA: '3703430',
  PE: '3932488',
  PH: '1694008',
  PK: '1168579',
  PL: '798544',
  PT: '2264397',
  QA: '289688',
  RO: '798549',
  RS: '6290252',
  SA: '102358',
  SE: '2661886',
  SG: '1880251',
  SI: '3190538',
  SK: '3057568',
  TH: '1605651',
  TN: '2464461',
  TR: '298795',
  TW: '1668284',
  UA: '690791',
  US: '6252001',
  UY: '3439705',
  VN: '1562822',
  ZA: '953987',
};

const COUNTRY_BY_LOCATION_ID: ReadonlyMap<string, string> = new Map(
  Object.entries(TIKTOK_COUNTRY_LOCATION_IDS).map(([country, id]) => [id, country]),
);

/** The TikTok location id of a country, or null when the table does not know it. */
export function locationIdOf(country: string): string | null {
  return TIKTOK_COUNTRY_LOCATION_IDS[country.toUpperCase()] ?? null;
}

/** The ISO alpha-2 code of a TikTok country location id, or null (a region, a city, unknown). */
export function countryOfLocationId(locationId: string): string | null {
  return COUNTRY_BY_LOCATION_ID.get(String(locationId)) ?? null;
}
