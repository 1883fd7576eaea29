import { createHash } from 'node:crypto';

/**
 * The console's one stylesheet, served as a file (`STYLE_PATH`) so that the Content-Security-Policy
 * needs no inline style (`style-src 'self'`). Plain CSS, no web fonts, no images.
 */
export const STYLESHEET = `
:root { --fg: #1d2430; --muted: #5b6577; --line: #d7dce4; --bg: #f6f7f9; --card: #fff; --accent: #1f5fbf; --bad: #b3261e; --warn: #8a5a00; --ok: #1b7a3d; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; align-items: center; gap: 1.5rem; padding: .6rem 1.2rem; background: #18202c; color: #fff; }
header .brand { font-weight: 600; letter-spacing: .02em; }
header nav a { color: #cfd8e6; text-decoration: none; margin-right: 1rem; }
header nav a[aria-current="page"] { color: #fff; border-bottom: 2px solid #7fb0ff; }
header .who { margin-left: auto; color: #cfd8e6; display: flex; gap: .8rem; align-items: center; }
header .who form { margin: 0; }
main { padding: 1.2rem; max-width: 1400px; }
h1 { font-size: 1.3rem; margin: 0 0 1rem; }
h2 { font-size: 1.05rem; margin: 1.4rem 0 .5rem; }
table { border-collapse: collapse; width: 100%; background: var(--card); border: 1px solid var(--line); }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #eef1f5; font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.kv th { width: 14rem; }
.muted { color: var(--muted); }
.ok { color: var(--ok); font-weight: 600; }
.bad { color: var(--bad); font-weight: 600; }
.warn { color: var(--warn); font-weight: 600; }
.err { color: var(--bad); white-space: pre-wrap; word-break: break-word; max-width: 40rem; }
.value { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; word-break: break-all; }
pre { background: var(--card); border: 1px solid var(--line); padding: .8rem; overflow: auto; white-space: pre-wrap; word-break: break-word; }
.tlp { display: inline-block; padding: 0 .4rem; border-radius: 3px; font-size: 12px; font-weight: 600; background: #000; }
.tlp-clear { color: #fff; } .tlp-green { color: #33ff00; } .tlp-amber, .tlp-amber-strict { color: #ffc000; } .tlp-red { color: #ff2b2b; }
form.search { display: flex; flex-wrap: wrap; gap: .6rem; align-items: end; background: var(--card); border: 1px solid var(--line); padding: .8rem; margin-bottom: 1rem; }
form.search label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); }
input, select, button { font: inherit; padding: .3rem .5rem; border: 1px solid var(--line); border-radius: 4px; background: #fff; }
button { background: var(--accent); color: #fff; border-color: var(--accent); cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }
form.inline { display: inline; margin: 0 .2rem 0 0; }
.notice { background: #fff8e1; border: 1px solid #f0d48a; padding: .6rem .8rem; margin-bottom: 1rem; }
.error-box { background: #fdecea; border: 1px solid #f3b6b0; padding: .6rem .8rem; margin-bottom: 1rem; }
.login { max-width: 26rem; margin: 4rem auto; background: var(--card); border: 1px solid var(--line); padding: 1.4rem; }
.login input { width: 100%; margin: .4rem 0 1rem; }
.pager { margin-top: .8rem; }
`;

/** Where the stylesheet is served: its path carries a digest of its text, so it may be cached for good. */
export const STYLE_PATH = `/console/assets/console.${createHash('sha256').update(STYLESHEET).digest('hex').slice(0, 12)}.css`;
