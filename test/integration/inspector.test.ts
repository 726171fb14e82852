import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const actorsModule = fileURLToPath(new URL("../fixtures/counter-actors.mjs", import.meta.url));
const artifacts = fileURLToPath(new URL("../../test-results/", import.meta.url));
const chromiumPath = process.env.GRANARY_CHROMIUM ?? "/usr/bin/chromium";

/**
 * A silo process with the inspector on, serving Counter/c1 at versions 1..5: the page is driven in
 * a real headless Chromium, as a person would.
 */
describe("inspector in a real browser", () => {
  let dataDir: string;
  let silo: ReturnType<typeof execFile>;
  let url: string;
  let browser: Browser;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "granary-inspector-"));
    const script = `
      import { Counter, seedCounter } from ${JSON.stringify(actorsModule)};
      import { Silo } from ${JSON.stringify(fileURLToPath(new URL("../../packages/runtime/dist/index.js", import.meta.url)))};
      await seedCounter(${JSON.stringify(dataDir)});
      const silo = await Silo.start({ actors: [Counter], dataDir: ${JSON.stringify(dataDir)}, inspector: { port: 0 } });
      await silo.get(Counter, "c1").value();
      process.stdout.write("INSPECTOR " + silo.inspectorUrl + "\\n");
      process.on("SIGTERM", () => silo.stop().then(() => process.exit(0)));
    `;
    silo = execFile(process.execPath, ["--input-type=module", "-e", script], {
      env: { ...process.env, GRANARY_LOG_LEVEL: "warn" },
    });
    url = await new Promise<string>((resolve, reject) => {
      let out = "";
      silo.stdout?.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const match = /INSPECTOR (\S+)/.exec(out);
        if (match?.[1]) resolve(match[1]);
      });
      silo.once("exit", (code) => reject(new Error(`silo exited with ${code}: ${out}`)));
    });
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    silo?.kill("SIGTERM");
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("shows the silo with its activation on the cluster page", async () => {
    const page = await browser.newPage();
    await page.goto(url);
    await expect.poll(() => page.locator("#silos td.activations").first().textContent(), { timeout: 20_000 }).toBe("1");
    // The load column: admission control's view, "overloaded" only while the silo sheds.
    const load = page.locator("#silos td.load span").first();
    expect(await load.getAttribute("data-overloaded")).toBe("false");
    expect(await load.getAttribute("title")).toMatch(/in flight, 0 shed/);
    await page.close();
  });

  it("an actor page shows its state, and moving the timeline slider shows the state at that version", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${url}#/actor/Counter/c1`);
    await expect.poll(() => page.locator("#live-state").textContent(), { timeout: 20_000 }).toContain('"total": 15');
    const slider = page.locator("#timeline");
    await expect.poll(() => slider.getAttribute("max"), { timeout: 20_000 }).toBe("5");
    // Move the slider to version 2 as a person would: focus it and press the arrow keys.
    await slider.focus();
    for (let i = 0; i < 3; i++) await slider.press("ArrowLeft");
    await expect.poll(() => page.locator("#timeline-label").textContent()).toBe("version 2 of 5");
    await expect.poll(() => page.locator("#state-at").getAttribute("data-version"), { timeout: 20_000 }).toBe("2");
    expect(JSON.parse((await page.locator("#state-at").textContent()) ?? "null")).toEqual({
      total: 3,
      history: [1, 2],
    });
    expect(await page.locator("#event-type").textContent()).toBe("Added (v2)");
    expect(await page.locator("#events tr.selected td").first().textContent()).toBe("2");
    expect(await page.locator("#diff .add").allTextContents()).toEqual(["+ history[1]: 2", "+ total: 3"]);
    expect(await page.locator("#diff .del").allTextContents()).toEqual(["- total: 1"]);
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, "inspector-actor-page.png"), fullPage: true });
    await page.close();
  });

  it("the actor search lists the active actor and links to its page", async () => {
    const page = await browser.newPage();
    await page.goto(`${url}#/actors?type=Counter`);
    await page.locator('a[href="#/actor/Counter/c1"]').click();
    await expect.poll(() => page.locator("#actor-title").textContent(), { timeout: 20_000 }).toBe("Counter/c1");
    await page.close();
  });
});
