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

/** The widths every layout is checked at: a laptop and a phone. */
export const DESKTOP = { width: 1280, height: 860 };
export const PHONE = { width: 390, height: 844 };

/** A browser with its own fresh profile; `close()` removes the profile. */
export async function openBrowser(viewport = DESKTOP) {
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
    viewport,
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

/**
 * Signs in through the sign-in page and waits for what only a signed-in
 * page has (the Sign out button, away from /sign-in). A refused sign-in
 * fails at once with the page's own error text.
 */
export async function signIn(page, email, password = PASSWORD) {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  // The Sign out form is on every signed-in page, folded into the menu on a phone.
  const signedIn = page.locator("form[action='/sign-out']");
  // (The code field is on the page for everyone; an account that needs a
  // code is told so in an alert.)
  const refused = page.getByRole("alert").or(page.locator(".field-error")).filter({ visible: true });
  await signedIn.or(refused).first().waitFor({ state: "attached" });
  if ((await signedIn.count()) === 0) {
    const said = (await refused.allInnerTexts()).join(" ").replace(/\s+/g, " ").trim();
    throw new Error(`signing in as ${email} was refused: ${said}`);
  }
  if (new URL(page.url()).pathname === "/sign-in") throw new Error(`signing in as ${email} stayed on /sign-in`);
}

export async function signOut(page) {
  await page.locator("form[action='/sign-out'] button").click();
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

/** Like `unique()`, in letters only: for names people type and read. */
export function uniqueWord() {
  const digits = "abcdefghij";
  const tag = unique().replace(/[0-9]/g, (d) => digits[Number(d)]);
  return tag[0].toUpperCase() + tag.slice(1);
}

/** `text` as a regular expression that matches it literally. */
export function literally(text) {
  return new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
}

/**
 * The JSON API signed in as one account, from Node rather than the page:
 * how a flow creates the data it starts from, and reads back what was
 * stored where no page shows it (the outbox).
 */
export async function api(email, password = PASSWORD) {
  const response = await fetch(`${BASE}/api/v1/session`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  if (!response.ok) throw new Error(`API sign-in as ${email}: ${response.status} ${await response.text()}`);
  const cookie = response.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
  async function call(method, path, body) {
    const answer = await fetch(BASE + path, {
      method,
      headers: { cookie, accept: "application/json", ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await answer.text();
    if (!answer.ok) throw new Error(`${method} ${path} as ${email}: ${answer.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }
  return {
    get: (path) => call("GET", path),
    post: (path, body) => call("POST", path, body),
    put: (path, body) => call("PUT", path, body),
    delete: (path) => call("DELETE", path),
  };
}

/** The platform operator's API, with the few set-up steps the flows share. */
export async function operator() {
  const client = await api("operator@starship.example");
  const partners = await client.get("/api/v1/partners");
  const partnerId = (name) => {
    const found = partners.find((p) => p.name === name);
    if (!found) throw new Error(`no partner named ${name}`);
    return found.id;
  };
  return {
    ...client,
    partnerId,
    /** A new person of `partner` (by name); returns the stored profile. */
    person: (partner, { email, first, last, locale = "en-US", ...rest }) =>
      client.post("/api/v1/users", { partner_id: partnerId(partner), email, first_name: first, last_name: last, locale, ...rest }),
    /** Grants one role (on a production when given). */
    grant: (userId, application, role, production) =>
      client.post("/api/v1/grants", { user_ids: [userId], roles: [{ application, role, ...(production ? { production } : {}) }] }),
    /** Every message queued for an address, newest first. */
    mail: (address) => client.get(`/api/v1/outbox?recipient=${encodeURIComponent(address)}`),
    /** The link in the newest message of `kind` to an address. */
    async link(address, kind) {
      const message = (await client.get(`/api/v1/outbox?recipient=${encodeURIComponent(address)}`)).find((m) => m.kind === kind);
      if (!message) throw new Error(`no ${kind} message to ${address}`);
      return message.body.match(/https?:\/\/\S+/)[0];
    },
    /** What the History of a person says, newest first. */
    history: (userId) => client.get(`/api/v1/users/${userId}/history`),
  };
}

/** Opens a profile's tab afresh (a new request, no ?done= banner). */
export async function openProfile(page, userId, tab = "roles") {
  await page.goto(tab === "roles" ? `/users/${userId}` : `/users/${userId}?tab=${tab}`);
  await page.getByRole("heading", { level: 2, name: tabTitles[tab] }).waitFor();
}

const tabTitles = {
  roles: "Roles",
  "admin-privileges": "Starship Admin Privileges",
  notifications: "Notifications",
  metadata: "Application Metadata",
  history: "History",
};

/** The History tab of the page as rows of { what, by, details }, newest first. */
export async function historyRows(page) {
  const rows = page.locator("table.history tbody tr");
  return rows.evaluateAll((trs) =>
    trs.map((tr) => ({
      what: tr.querySelector("th").innerText.trim(),
      by: tr.children[2].innerText.replace(/\s+/g, " ").trim(),
      details: tr.children[3].innerText.trim(),
    })),
  );
}

/** How far the page scrolls sideways: 0 when nothing is wider than the window. */
export async function sidewaysOverflow(page) {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}
