// What content an ad shows, read from its deep link (see core/tracking.ts for the convention):
// the sandbox uses it to look up the hidden truth of the artist and template the user lands on.

/**
 * Deep links look like https://…/artist/<artistId>?utm_content=<artistId>.<templateId>… or, as
 * an app link, myapp://artist/<artistId>?utm_content=… (there `artist` is the URL's host).
 */
export function contentFromLink(link: unknown): {
  artistId: string | null;
  templateId: string | null;
} {
  if (typeof link !== 'string') return { artistId: null, templateId: null };
  try {
    const url = new URL(link);
    const artist = /\/artist\/([^/?#]+)/.exec(`//${url.host}${url.pathname}`)?.[1] ?? null;
    const content = url.searchParams.get('utm_content') ?? '';
    const dot = content.indexOf('.');
    return { artistId: artist, templateId: dot > 0 ? content.slice(dot + 1) : null };
  } catch {
    return { artistId: null, templateId: null };
  }
}
