// Shared by the end-to-end tests: a fresh headless Chromium per test file,
// signing in as a demo account, and the screenshot of each flow's last page.

import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const BASE = process.env.STARSHIP_URL || "http://127.0.0.1:8080";
export const PASSWORD = "starship-demo-password";
const ARTIFACTS = process.env.E2E_ARTIFACTS || join(dirname(fileURLToPath(import.meta.url)), "..", "..", "e2e-artifacts");

/** A browser with its own fresh profile; `close()` removes the profile. */
export async function openBrowser() {
  const profile = mkdtempSync(join(tmpdir(), "starship-e2e-profile-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1280, height: 860 },
    baseURL: BASE,
  });
  context.setDefaultTimeout(10_000);
  const page = context.pages()[0] || (await context.newPage());
  const problems = [];
  page.on("pageerror", (error) => problems.push(`script error: ${error.message}`));
  page.on("console", (message) => {
    // A refused form answers 422 (or 401, 403) on purpose; anything else
    // logged as an error (script errors, CSP refusals) is a problem.
    const expected = /^Failed to load resource: the server responded with a status of 4(22|01|03)/;
    if (message.type() === "error" && !expected.test(message.text())) problems.push(`console error: ${message.text()}`);
  });
  return {
    page,
    /** Script errors and CSP violations the pages caused. */
    problems,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Signs in through the sign-in page and lands on My Account. */
export async function signIn(page, email) {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { level: 1 }).waitFor();
}

export async function signOut(page) {
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("heading", { name: "Sign in to Starship" }).waitFor();
}

/** Saves the page as e2e-artifacts/NAME.png. */
export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** A unique suffix, so a test may run again against the same server. */
export function unique() {
  return `${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
}

/** With E2E_STEPS=1, also saves the pages along the way (for looking at them). */
export async function step(page, name) {
  if (process.env.E2E_STEPS === "1") await screenshot(page, `step-${name}`);
}
