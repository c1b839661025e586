// Each platform's smallest daily budget per ad set (ad group, campaign), in USD, as the allocator
// must respect it. Converted into the reporting currency at the day's rates.
export const PLATFORM_MIN_DAILY_USD = {
  // "The minimum daily budget at the ad group level is 20 USD" (TikTok API for Business,
  // /adgroup/create/ `budget`; also what the sandbox enforces, sandbox/tiktok/tiktok-objects.ts).
  tiktok: 20,
  // Meta's minimum depends on the currency and what the ad set optimises for (AdAccount
  // `min_daily_budget` reads it); USD 1.00 a day is its floor for impression-billed ad sets
  // (https://www.facebook.com/business/help/203183363050448).
  meta: 1,
  // Google Ads sets no minimum for a campaign budget; one currency unit keeps it meaningful (an
  // App campaign's budget should be 50x its target cost per action, checked at deploy).
  google: 1,
} as const;
