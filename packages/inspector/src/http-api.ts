import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { InspectorSource } from "./inspector-source.js";

const MAX_BODY_BYTES = 16 * 1024;

/** An API error with its HTTP status; its message is shown to the person using the page. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Answers `/api/...` requests from the source; anything it cannot answer is a JSON error. */
export async function handleApi(
  source: InspectorSource,
  purgeKey: string | undefined,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
): Promise<void> {
  try {
    const value = await route(source, purgeKey, request, url);
    sendJson(response, 200, value);
  } catch (error) {
    const status = error instanceof HttpError ? error.status : 500;
    const code = (error as { code?: unknown }).code;
    sendJson(response, status, {
      error: error instanceof Error ? error.message : String(error),
      ...(typeof code === "string" ? { code } : {}),
    });
  }
}

async function route(source: InspectorSource, purgeKey: string | undefined, request: IncomingMessage, url: URL) {
  const path = url.pathname.replace(/^\/api/, "");
  const q = url.searchParams;
  if (request.method === "GET") {
    switch (path) {
      case "/features": {
        const offered = source.features ? await source.features() : {};
        const has = (name: keyof typeof offered, method: unknown) => method !== undefined && offered[name] !== false;
        return {
          history: has("history", source.history),
          stateAt: has("stateAt", source.stateAt),
          projections: has("projections", source.projections),
          reminders: has("reminders", source.reminders),
          purge: has("purge", source.purge) && purgeKey !== undefined,
        };
      }
      case "/silos":
        return source.silos();
      case "/activations":
        return source.activations({
          ...optional("type", q.get("type")),
          ...optional("idContains", q.get("q")),
          limit: intParam(q, "limit") ?? 200,
        });
      case "/actor":
        return source.actor(required(q, "type"), required(q, "id"));
      case "/history":
        if (!source.history) throw new HttpError(404, "this source has no event history");
        return source.history(required(q, "type"), required(q, "id"), {
          ...optionalInt("fromVersion", intParam(q, "fromVersion")),
          ...optionalInt("toVersion", intParam(q, "toVersion")),
          limit: intParam(q, "limit") ?? 1000,
        });
      case "/state":
        if (!source.stateAt) throw new HttpError(404, "this source has no time travel");
        return source.stateAt(required(q, "type"), required(q, "id"), intParam(q, "version") ?? 0);
      case "/projections":
        return source.projections ? source.projections() : [];
      case "/reminders":
        return source.reminders ? source.reminders(required(q, "type"), required(q, "id")) : [];
    }
  }
  if (request.method === "POST" && path === "/purge") {
    if (!source.purge || purgeKey === undefined) {
      throw new HttpError(403, "purge is disabled: start the inspector with the cluster key to allow it");
    }
    const body = (await readJson(request)) as Record<string, unknown>;
    if (typeof body.key !== "string" || !sameSecret(body.key, purgeKey)) {
      throw new HttpError(403, "wrong cluster key: purge refused");
    }
    const type = bodyString(body, "type");
    const id = bodyString(body, "id");
    return source.purge(type, id, { reason: bodyString(body, "reason"), requestedBy: bodyString(body, "requestedBy") });
  }
  throw new HttpError(404, `no such API: ${request.method} ${url.pathname}`);
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function required(q: URLSearchParams, name: string): string {
  const value = q.get(name);
  if (value === null || value === "") throw new HttpError(400, `query parameter "${name}" is required`);
  return value;
}

function bodyString(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== "string" || value.trim() === "") throw new HttpError(400, `"${name}" is required`);
  return value;
}

function optional(name: string, value: string | null): Record<string, string> {
  return value === null || value === "" ? {} : { [name]: value };
}

function optionalInt(name: string, value: number | undefined): Record<string, number> {
  return value === undefined ? {} : { [name]: value };
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const text = q.get(name);
  if (text === null || text === "") return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0)
    throw new HttpError(400, `"${name}" must be an integer >= 0, got "${text}"`);
  return value;
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, "request body too large");
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new HttpError(400, "request body is not JSON");
  }
}

export function sendJson(response: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value ?? null);
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "cache-control": "no-store",
    "content-length": Buffer.byteLength(body),
  });
  response.end(body);
}
