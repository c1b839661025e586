// Countries a generated world draws its markets from: the same table adloop uses for market
// defaults (core/countries.ts).
export { COUNTRIES, COUNTRY_BY_CODE, type Country } from '../core/countries.ts';
