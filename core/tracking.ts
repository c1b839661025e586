// Tracking naming convention for every ad adloop deploys. The deep link opens the artist in the
// app; UTM parameters let the MMP and analytics attribute installs to market and creative:
//   utm_source   = platform (meta, tiktok)
//   utm_medium   = paid_social
//   utm_campaign = adloop_<market>
//   utm_content  = <artistId>.<templateId>
export const DEEP_LINK_BASE = 'https://listen.adloop.example';

export function deepLink(p: {
  platform: string;
  market: string;
  artistId: string;
  templateId: string;
}) {
  const url = new URL(`/artist/${encodeURIComponent(p.artistId)}`, DEEP_LINK_BASE);
  url.searchParams.set('utm_source', p.platform);
  url.searchParams.set('utm_medium', 'paid_social');
  url.searchParams.set('utm_campaign', `adloop_${p.market}`);
  url.searchParams.set('utm_content', `${p.artistId}.${p.templateId}`);
  return url.toString();
}
