/** The console's stylesheet, served from /assets (the CSP allows no inline styles). */
export const stylesheet = `
:root { --fg: #1d2330; --muted: #5b6475; --line: #d5dae3; --bg: #f6f7f9; --card: #fff; --accent: #1f6feb;
  --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; font-family: system-ui, sans-serif; color: var(--fg); }
body { margin: 0; background: var(--bg); }
header { display: flex; gap: 1rem; align-items: center; padding: .6rem 1.2rem; background: #16213a; color: #fff; }
header a { color: #dbe5ff; text-decoration: none; }
header a.here { color: #fff; font-weight: 600; text-decoration: underline; }
header .brand { font-weight: 700; letter-spacing: .05em; margin-right: 1rem; }
header .who { margin-left: auto; color: #b9c4dd; }
header form { margin: 0; }
main { padding: 1rem 1.4rem 3rem; max-width: 80rem; }
h1 { font-size: 1.4rem; margin: .4rem 0 1rem; }
h2 { font-size: 1.1rem; margin: 1.4rem 0 .5rem; }
section.card, .card { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: .8rem 1rem; margin: .8rem 0; }
table { border-collapse: collapse; width: 100%; background: var(--card); }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; font-size: .92rem; }
th { color: var(--muted); font-weight: 600; }
tr.allowed td { background: #eef5ff; }
a { color: var(--accent); }
code, pre { font-family: ui-monospace, monospace; font-size: .85rem; }
pre { background: #f0f2f5; padding: .5rem; overflow: auto; max-height: 20rem; margin: .3rem 0; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0; }
dl.kv dt { color: var(--muted); }
dl.kv dd { margin: 0; }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 999px; border: 1px solid var(--line); font-size: .8rem; }
.badge.succeeded, .badge.ready, .badge.active, .badge.ok { color: var(--ok); border-color: var(--ok); }
.badge.failed, .badge.quarantined, .badge.missing, .badge.bad, .badge.aborted { color: var(--bad); border-color: var(--bad); }
.badge.running, .badge.reserved, .badge.open { color: var(--warn); border-color: var(--warn); }
.error { color: var(--bad); border: 1px solid var(--bad); background: #fff5f5; padding: .5rem .8rem; border-radius: 4px; }
.notice { color: var(--ok); border: 1px solid var(--ok); background: #f3fbf5; padding: .5rem .8rem; border-radius: 4px; }
.muted { color: var(--muted); }
.actions { display: flex; flex-wrap: wrap; gap: .6rem; align-items: flex-start; }
details.action { border: 1px solid var(--line); border-radius: 4px; padding: .3rem .6rem; background: var(--card); }
details.action summary { cursor: pointer; font-weight: 600; }
form.api { display: grid; gap: .35rem; margin: .4rem 0; min-width: 18rem; }
form.api.bare { display: block; min-width: 0; margin: 0; }
form.api label { display: grid; gap: .1rem; font-size: .85rem; color: var(--muted); }
form.api input, form.api select, form.api textarea { font: inherit; color: var(--fg); padding: .25rem .4rem; border: 1px solid var(--line); border-radius: 3px; }
form.api textarea { font-family: ui-monospace, monospace; min-height: 3.5rem; }
button { font: inherit; cursor: pointer; padding: .25rem .8rem; border-radius: 4px; border: 1px solid var(--accent); background: var(--accent); color: #fff; }
button.secondary { background: transparent; color: inherit; border-color: currentColor; }
progress { width: 16rem; height: .9rem; vertical-align: middle; }
ul.tree, ul.tree ul { list-style: none; padding-left: 1.2rem; margin: .2rem 0; border-left: 1px dashed var(--line); }
ul.tree { padding-left: .4rem; border-left: none; }
ul.steps { margin: .3rem 0; padding-left: 1.2rem; }
.login { max-width: 26rem; margin: 4rem auto; }
svg.lifecycle { width: 100%; height: auto; max-height: 16rem; background: var(--card); }
svg.lifecycle rect { fill: #f0f3f8; stroke: #8792a6; stroke-width: 1.2; }
svg.lifecycle .current rect { fill: #1f6feb; stroke: #0b3d91; }
svg.lifecycle .current text { fill: #fff; font-weight: 700; }
svg.lifecycle text { font-size: 12px; fill: var(--fg); text-anchor: middle; dominant-baseline: middle; }
svg.lifecycle path { fill: none; stroke: #9aa3b5; stroke-width: 1.2; }
svg.lifecycle .edge.allowed path { stroke: #1f6feb; stroke-width: 2.2; }
svg.lifecycle .edge text { font-size: 10.5px; fill: var(--muted); }
svg.lifecycle .edge.allowed text { fill: #1f6feb; font-weight: 700; }
svg.lifecycle marker path { fill: #9aa3b5; stroke: none; }
tr.empty td { text-align: center; }
.docs h3 { font-size: 1rem; margin: 0 0 .4rem; }
.docs h4 { font-size: .9rem; margin: .8rem 0 .3rem; color: var(--muted); }
.docs article.op, .docs article.component { scroll-margin-top: .5rem; }
.docs article.op:target, .docs article.component:target { border-color: var(--accent); box-shadow: 0 0 0 2px #cfe0ff; }
.docs a.anchor { color: var(--muted); text-decoration: none; }
nav.toc ul { margin: .2rem 0; padding-left: 1.2rem; }
nav.toc li { margin: .1rem 0; }
nav.toc a { text-decoration: none; }
.method { display: inline-block; min-width: 3.6rem; text-align: center; border-radius: 3px; padding: 0 .3rem; font-size: .75rem; font-weight: 700; color: #fff; background: #5b6475; }
.method.get { background: #1f6feb; }
.method.post { background: #1a7f37; }
.method.put, .method.patch { background: #9a6700; }
.method.delete { background: #cf222e; }
.schema .line { margin: .1rem 0; }
ul.fields, ol.variants { margin: .1rem 0 .2rem; padding-left: 1.3rem; border-left: 1px dashed var(--line); }
ul.fields { list-style: none; }
ul.fields li, ol.variants li { margin: .15rem 0; font-size: .9rem; }
code.field { font-weight: 700; }
.schema .type { color: #6f42c1; margin-right: .4rem; }
.schema .type a { color: inherit; }
.schema .required { color: var(--bad); font-size: .8rem; margin-right: .4rem; }
.schema .values, .schema .constraint { color: var(--muted); font-size: .85rem; margin-right: .4rem; }
.schema .description { color: var(--fg); }
ul.answers { list-style: none; padding-left: 0; }
ul.answers li.answer { margin: .3rem 0; }
details.example { display: inline; }
details.example summary { display: inline; cursor: pointer; color: var(--accent); font-size: .85rem; }
`;
