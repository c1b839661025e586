// Secrets out of error messages and log lines. Errors travel into workflow histories, the audit log
// and logs, and a URL can carry a credential: in its user info (`https://user:pass@host/`), in its
// query (Meta's `access_token`, signed object-store URLs) or in its fragment. Every message that
// names a URL, or quotes text that may, goes through here.

/** What stands in for a removed secret. */
export const REDACTED = '[redacted]';

/**
 * The URL with what may be secret taken out: user info becomes `[redacted]@`, every query
 * parameter keeps its name but not its value (`?token=[redacted]&sig=[redacted]`; a parameter
 * without `=` may be a bare token, so it goes whole), and the fragment is dropped. Scheme, host,
 * port and path stay, so an operator can still tell which URL it was. A string that is not a URL,
 * or a URL with nothing to take out, is returned unchanged.
 */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url;
  }
  if (!u.username && !u.password && !u.search && !url.includes('#')) return url;
  const query = u.search
    .slice(1)
    .split('&')
    .filter((p) => p !== '')
    .map((p) => (p.includes('=') ? `${p.slice(0, p.indexOf('='))}=${REDACTED}` : REDACTED))
    .join('&');
  // `scheme://` URLs have an authority; others (`mailto:`) have an opaque path.
  const authority = /^[a-z][a-z\d+.-]*:\/\//i.test(url)
    ? `//${u.username || u.password ? `${REDACTED}@` : ''}${u.host}`
    : '';
  return `${u.protocol}${authority}${u.pathname}${query ? `?${query}` : ''}`;
}

/** URLs with an authority (`scheme://…`) inside a text, up to a space, quote or bracket. */
const URL_IN_TEXT = /\b[a-z][a-z\d+.-]*:\/\/[^\s"'<>`]+/gi;

/**
 * A text with the given secrets and anything that looks like a credential taken out: every URL in
 * it through `redactUrl`, `access_token=…` and `Bearer …`.
 */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join(REDACTED);
  return (
    out
      .replace(URL_IN_TEXT, (url) => redactUrl(url))
      // User info of a URL that does not parse (`http://user:pass@` and no host).
      .replace(/\b([a-z][a-z\d+.-]*:\/\/)[^\s/?#@"'<>`]+@/gi, `$1${REDACTED}@`)
      .replace(/(access_token=)[^&\s"]+/gi, `$1${REDACTED}`)
      .replace(/(Bearer\s+)[^\s"]+/gi, `$1${REDACTED}`)
  );
}
