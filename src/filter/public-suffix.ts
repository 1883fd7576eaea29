import { parse } from 'tldts';

const OPTIONS = {
  allowPrivateDomains: true,
  extractHostname: false,
  validateHostname: false,
  detectIp: false,
  mixedInputs: false,
} as const;

/**
 * The public suffix of the Public Suffix List's private section a canonical host lies under
 * (`duckdns.org` for `evil.duckdns.org`, `s3.amazonaws.com` for `b.s3.amazonaws.com`), or
 * undefined when its suffix is an ICANN one. The list is the `tldts` package's copy of the PSL.
 * Private-section suffixes are names under which independent parties register hosts: dynamic DNS,
 * free hosting, CDN and cloud tenants.
 */
export function privateSuffixOf(host: string): string | undefined {
  const p = parse(host, OPTIONS);
  return p.isPrivate === true && p.publicSuffix ? p.publicSuffix : undefined;
}
