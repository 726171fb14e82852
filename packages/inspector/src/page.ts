import { PAGE_SCRIPT } from "./page-script.js";
import { PAGE_STYLE } from "./page-style.js";

/** The whole inspector page: one HTML document with its style and script inline (no assets, no build). */
export function inspectorPage(title: string): string {
  const safeTitle = title.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${safeTitle} · Granary inspector</title>
<style>${PAGE_STYLE}</style>
</head>
<body>
<header>
  <h1>Granary inspector <span class="muted">· ${safeTitle}</span></h1>
  <nav><a href="#/" data-nav="cluster">Cluster</a><a href="#/actors" data-nav="actors">Actors</a><a href="#/projections" data-nav="projections">Projections</a></nav>
</header>
<main id="view"></main>
<script>${PAGE_SCRIPT}</script>
</body>
</html>`;
}
