import { createHash } from 'node:crypto';

/**
 * The page's only style sheet, inline: no external resource. The Content-Security-Policy allows
 * exactly this text by its hash. Narrow screens get each table row as a stacked card.
 */
export const PAGE_STYLE = `
:root{--ok:#1a7f37;--warning:#9a6700;--critical:#cf222e;--expired:#82071e;--revoked:#8250df;--muted:#57606a;--line:#d0d7de;--bg:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;background:#fff}
header,main,footer{max-width:72rem;margin:0 auto;padding:0 1rem}
header{padding-top:1rem;border-bottom:1px solid var(--line)}
h1{font-size:1.4rem;margin:.2rem 0}
h2{font-size:1.1rem;margin:1.4rem 0 .5rem}
.scan{margin:.3rem 0 .8rem;color:var(--muted)}
.scan strong{color:#1f2328}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(16rem,1fr));gap:1rem}
.card{border:1px solid var(--line);border-radius:6px;padding:.2rem .9rem .6rem;background:var(--bg)}
.counts{width:100%;border-collapse:collapse}
.counts td{padding:.15rem 0}
.counts td:last-child{text-align:right;font-variant-numeric:tabular-nums;font-weight:600}
.badge{display:inline-block;padding:0 .45rem;border-radius:1rem;font-size:.85em;color:#fff;background:var(--muted);white-space:nowrap}
.s-ok{background:var(--ok)}.s-warning{background:var(--warning)}.s-critical{background:var(--critical)}
.s-expired,.s-no_valid_certificate{background:var(--expired)}.s-revoked{background:var(--revoked)}
.s-error,.s-not_found{background:#6e7781}
.forecast{width:100%;height:auto;max-height:16rem;display:block}
.forecast .axis{stroke:var(--line)}
.forecast text{font-size:11px;text-anchor:middle;fill:var(--muted)}
.forecast .count{fill:#1f2328;font-size:10px}
.bar-overdue rect{fill:var(--expired)}.bar-critical rect{fill:var(--critical)}
.bar-warning rect{fill:var(--warning)}.bar-ok rect{fill:#54aeff}
form.filters{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:end;margin:.5rem 0}
form.filters label{display:flex;flex-direction:column;font-size:.85rem;color:var(--muted)}
select,button{font:inherit;padding:.25rem .4rem;max-width:20rem}
table.list{width:100%;border-collapse:collapse;font-size:.92rem;table-layout:fixed}
.w-date{width:9.5rem}.w-days{width:5rem}.w-state{width:6.5rem}.w-org{width:9rem}.w-short{width:7rem}.w-findings{width:10rem}
.list th,.list td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
.list th{background:var(--bg);font-weight:600}
.list td{white-space:nowrap}
.list td.text{white-space:normal;overflow-wrap:anywhere}
.num{text-align:right;font-variant-numeric:tabular-nums}
.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85em}
.finding{display:inline-block;margin:0 .2rem .1rem 0;padding:0 .35rem;border:1px solid var(--critical);border-radius:4px;color:var(--critical);font-size:.8em}
.pages{display:flex;gap:1rem;align-items:center;margin:.6rem 0}
.empty,.unavailable{color:var(--muted);font-style:italic}
.unavailable{color:var(--critical)}
footer{margin-top:2rem;padding:1rem;border-top:1px solid var(--line);color:var(--muted);font-size:.85rem}
a{color:#0969da}
@media (max-width:40rem){
body{font-size:14px}
.list thead,.list colgroup{display:none}
table.list,.list tbody{display:block}
.list tr{display:block;border:1px solid var(--line);border-radius:6px;margin:0 0 .6rem;padding:.2rem 0}
.list td{display:flex;gap:.6rem;justify-content:space-between;border:0;padding:.15rem .6rem;text-align:right;white-space:normal}
.list td::before{content:attr(data-label);font:600 13px system-ui,sans-serif;color:var(--muted);text-align:left;flex:none}
.list td:empty{display:none}
}
`;

/** The CSP source that allows PAGE_STYLE and nothing else. */
export const PAGE_STYLE_SOURCE = `'sha256-${createHash('sha256').update(PAGE_STYLE).digest('base64')}'`;
