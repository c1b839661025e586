// Countries: ISO 3166-1 alpha-2 code, name, main
// language (ISO 639-1), currency, a representative time zone, and whether the language is written
// right to left.
export interface Country {
  code: string;
  name: string;
  language: string;
  currency: string;
  timeZone: string;
  rightToLeft: boolean;
}

const rows: Array<[string, string, string, string, string, boolean?]> = [
  ['US', 'United States', 'en', 'USD', 'America/New_York'],
  ['GB', 'United Kingdom', 'en', 'GBP', 'Europe/London'],
  ['DE', 'Germany', 'de', 'EUR', 'Europe/Berlin'],
  ['FR', 'France', 'fr', 'EUR', 'Europe/Paris'],
  ['ES', 'Spain', 'es', 'EUR', 'Europe/Madrid'],
  ['IT', 'Italy', 'it', 'EUR', 'Europe/Rome'],
  ['NL', 'Netherlands', 'nl', 'EUR', 'Europe/Amsterdam'],
  ['BE', 'Belgium', 'nl', 'EUR', 'Europe/Brussels'],
  ['SE', 'Sweden', 'sv', 'SEK', 'Europe/Stockholm'],
  ['NO', 'Norway', 'nb', 'NOK', 'Europe/Oslo'],
  ['DK', 'Denmark', 'da', 'DKK', 'Europe/Copenhagen'],
  ['FI', 'Finland', 'fi', 'EUR', 'Europe/Helsinki'],
  ['PL', 'Poland', 'pl', 'PLN', 'Europe/Warsaw'],
  ['CZ', 'Czechia', 'cs', 'CZK', 'Europe/Prague'],
  ['AT', 'Austria', 'de', 'EUR', 'Europe/Vienna'],
  ['CH', 'Switzerland', 'de', 'CHF', 'Europe/Zurich'],
  ['PT', 'Portugal', 'pt', 'EUR', 'Europe/Lisbon'],
  ['IE', 'Ireland', 'en', 'EUR', 'Europe/Dublin'],
  ['GR', 'Greece', 'el', 'EUR', 'Europe/Athens'],
  ['RO', 'Romania', 'ro', 'RON', 'Europe/Bucharest'],
  ['HU', 'Hungary', 'hu', 'HUF', 'Europe/Budapest'],
  ['TR', 'Türkiye', 'tr', 'TRY', 'Europe/Istanbul'],
  ['UA', 'Ukraine', 'uk', 'UAH', 'Europe/Kyiv'],
  ['IL', 'Israel', 'he', 'ILS', 'Asia/Jerusalem', true],
  ['EG', 'Egypt', 'ar', 'EGP', 'Africa/Cairo', true],
  ['SA', 'Saudi Arabia', 'ar', 'SAR', 'Asia/Riyadh', true],
  ['AE', 'United Arab Emirates', 'ar', 'AED', 'Asia/Dubai', true],
  ['MA', 'Morocco', 'ar', 'MAD', 'Africa/Casablanca', true],
  ['JO', 'Jordan', 'ar', 'JOD', 'Asia/Amman', true],
  ['NG', 'Nigeria', 'en', 'NGN', 'Africa/Lagos'],
  ['KE', 'Kenya', 'en', 'KES', 'Africa/Nairobi'],
  ['ZA', 'South Africa', 'en', 'ZAR', 'Africa/Johannesburg'],
  ['IN', 'India', 'hi', 'INR', 'Asia/Kolkata'],
  ['PK', 'Pakistan', 'ur', 'PKR', 'Asia/Karachi', true],
  ['BD', 'Bangladesh', 'bn', 'BDT', 'Asia/Dhaka'],
  ['ID', 'Indonesia', 'id', 'IDR', 'Asia/Jakarta'],
  ['MY', 'Malaysia', 'ms', 'MYR', 'Asia/Kuala_Lumpur'],
  ['SG', 'Singapore', 'en', 'SGD', 'Asia/Singapore'],
  ['TH', 'Thailand', 'th', 'THB', 'Asia/Bangkok'],
  ['VN', 'Vietnam', 'vi', 'VND', 'Asia/Ho_Chi_Minh'],
  ['PH', 'Philippines', 'en', 'PHP', 'Asia/Manila'],
  ['JP', 'Japan', 'ja', 'JPY', 'Asia/Tokyo'],
  ['KR', 'South Korea', 'ko', 'KRW', 'Asia/Seoul'],
  ['TW', 'Taiwan', 'zh', 'TWD', 'Asia/Taipei'],
  ['HK', 'Hong Kong', 'zh', 'HKD', 'Asia/Hong_Kong'],
  ['AU', 'Australia', 'en', 'AUD', 'Australia/Sydney'],
  ['NZ', 'New Zealand', 'en', 'NZD', 'Pacific/Auckland'],
  ['CA', 'Canada', 'en', 'CAD', 'America/Toronto'],
  ['MX', 'Mexico', 'es', 'MXN', 'America/Mexico_City'],
  ['BR', 'Brazil', 'pt', 'BRL', 'America/Sao_Paulo'],
  ['AR', 'Argentina', 'es', 'ARS', 'America/Argentina/Buenos_Aires'],
  ['CL', 'Chile', 'es', 'CLP', 'America/Santiago'],
  ['CO', 'Colombia', 'es', 'COP', 'America/Bogota'],
  ['PE', 'Peru', 'es', 'PEN', 'America/Lima'],
  ['EC', 'Ecuador', 'es', 'USD', 'America/Guayaquil'],
  ['UY', 'Uruguay', 'es', 'UYU', 'America/Montevideo'],
  ['CR', 'Costa Rica', 'es', 'CRC', 'America/Costa_Rica'],
  ['DO', 'Dominican Republic', 'es', 'DOP', 'America/Santo_Domingo'],
  ['GT', 'Guatemala', 'es', 'GTQ', 'America/Guatemala'],
  ['IS', 'Iceland', 'is', 'ISK', 'Atlantic/Reykjavik'],
];

export const COUNTRIES: Country[] = rows.map(([code, name, language, currency, timeZone, rtl]) => ({
  code,
  name,
  language,
  currency,
  timeZone,
  rightToLeft: rtl ?? false,
}));

export const COUNTRY_BY_CODE = new Map(COUNTRIES.map((c) => [c.code, c]));
