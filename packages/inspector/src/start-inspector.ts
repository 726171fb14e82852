import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { handleApi } from "./http-api.js";
import { type InspectorOptions, resolveInspectorOptions } from "./inspector-options.js";
import type { InspectorSource } from "./inspector-source.js";
import { inspectorPage } from "./page.js";

/** A running inspector: where to open it, and how to stop it. */
export interface Inspector {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves the inspector page and its JSON API over HTTP, read-only unless `purgeKey` is given.
 *
 * @example
 * const inspector = await startInspector(source, { port: 8080 });
 * console.log(`open ${inspector.url}`);
 */
export async function startInspector(
  source: InspectorSource,
  options: InspectorOptions = {},
  title = "cluster",
): Promise<Inspector> {
  const resolved = resolveInspectorOptions(options);
  const page = inspectorPage(title);
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://inspector");
    if (url.pathname.startsWith("/api/")) {
      void handleApi(source, resolved.purgeKey, request, response, url);
      return;
    }
    if (request.method !== "GET" || (url.pathname !== "/" && url.pathname !== "/index.html")) {
      response.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    response
      .writeHead(200, {
        "content-type": "text/html; charset=utf-8",
        "cache-control": "no-store",
        // The page runs only its own inline script and talks only to this server.
        "content-security-policy":
          "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
      })
      .end(page);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(resolved.port, resolved.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = resolved.host.includes(":") ? `[${resolved.host}]` : resolved.host;
  return {
    url: `http://${host}:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
