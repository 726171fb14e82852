/** The inspector's stylesheet: system fonts, no assets, readable in light and dark. */
export const PAGE_STYLE = String.raw`
:root { color-scheme: light dark; --fg: #1d232b; --muted: #5d6773; --line: #d9dee4; --accent: #2f6fdf; --bg: #fff; --panel: #f6f8fa; --add: #e6f6ea; --del: #fbe9e9; }
@media (prefers-color-scheme: dark) { :root { --fg: #e4e8ee; --muted: #98a3b0; --line: #333b45; --accent: #6ea1ff; --bg: #14181d; --panel: #1b2027; --add: #163322; --del: #3a1c1c; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; gap: 24px; align-items: center; padding: 10px 20px; border-bottom: 1px solid var(--line); background: var(--panel); }
header h1 { font-size: 16px; margin: 0; }
header nav a { margin-right: 16px; color: var(--muted); text-decoration: none; }
header nav a.active { color: var(--accent); font-weight: 600; }
main { padding: 16px 20px; max-width: 1200px; }
h2 { font-size: 15px; margin: 18px 0 8px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 500; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: var(--panel); border: 1px solid var(--line); padding: 8px 10px; overflow: auto; margin: 0; font-size: 12.5px; }
a { color: var(--accent); }
.muted { color: var(--muted); }
.error { color: #d33; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.card { border: 1px solid var(--line); padding: 10px 12px; background: var(--panel); }
.kv { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; }
.kv dt { color: var(--muted); }
.kv dd { margin: 0; word-break: break-all; }
.badge { display: inline-block; padding: 0 6px; border-radius: 8px; background: var(--line); font-size: 12px; }
.badge.serving, .badge.active { background: #2e8b57; color: #fff; }
.badge.fenced, .badge.failed, .badge.overloaded { background: #c0392b; color: #fff; }
.badge.stopping, .badge.deactivating { background: #d68910; color: #fff; }
#timeline { width: 100%; }
.diff div { font-family: ui-monospace, monospace; font-size: 12.5px; padding: 1px 6px; white-space: pre-wrap; }
.diff .add { background: var(--add); }
.diff .del { background: var(--del); }
form.search { display: flex; gap: 8px; margin-bottom: 10px; }
input, select, button { font: inherit; padding: 4px 8px; }
button.danger { color: #fff; background: #c0392b; border: 0; padding: 5px 10px; }
tr.selected td { background: var(--panel); font-weight: 600; }
tr.clickable { cursor: pointer; }
`;
