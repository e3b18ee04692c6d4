// Every page at a laptop's and a phone's width: nothing scrolls sideways
// (tables scroll inside their box or fold, the profile tabs scroll, the
// header folds into a menu on a phone), with a screenshot of each page at
// both widths.

import { test } from "node:test";
import assert from "node:assert/strict";
import { openBrowser, signIn, screenshot, sidewaysOverflow, DESKTOP, PHONE } from "./support.js";

/** Pages a Master admin of Sunrise uses, by the name of their screenshot. */
const adminPages = [
  ["my-account", "/"],
  ["my-account-admin-privileges", "/?tab=admin-privileges"],
  ["my-account-notifications", "/?tab=notifications"],
  ["my-account-metadata", "/?tab=metadata"],
  ["my-account-history", "/?tab=history"],
  ["my-account-tokens", "/?tab=tokens"],
  ["users", "/users"],
  ["users-by-email", "/users?sort=email"],
  ["users-search", "/users?q=sunrise"],
  ["applications", "/applications"],
  ["applications-backlot", "/applications/backlot"],
  ["applications-backlot-everyone", "/applications/backlot?everyone=1"],
  ["create-and-onboard", "/onboard"],
  ["security", "/security"],
  ["reviews", "/reviews"],
];

/** The operators' pages. */
const operatorPages = [
  ["outbox", "/outbox"],
  ["outbox-failed", "/outbox?status=failed"],
];

/** Partner Portal pages, as Metro Fiber's engineer. */
const portalPages = [
  ["portal-users", "/portal/users"],
  ["portal-appliances", "/portal/appliances"],
  ["portal-tickets", "/portal/tickets"],
];

async function checkPages(page, pages, width) {
  const wide = [];
  for (const [name, path] of pages) {
    const response = await page.goto(path);
    assert.ok(response.ok(), `${path} answers ${response.status()}`);
    const overflow = await sidewaysOverflow(page);
    if (overflow > 0) wide.push(`${path} is ${overflow}px too wide`);
    await screenshot(page, `layout-${width}-${name}`);
  }
  return wide;
}

for (const viewport of [DESKTOP, PHONE]) {
  test(`no page scrolls sideways at ${viewport.width}px`, async () => {
    const browser = await openBrowser(viewport);
    const { page } = browser;
    try {
      await signIn(page, "mara.master@sunrise.example");
      const wide = await checkPages(page, adminPages, viewport.width);

      // Select Permissions: onboarding an existing person.
      await page.goto("/users?q=pat");
      await page.getByRole("link", { name: /Pat/ }).first().click();
      await page.getByRole("link", { name: "Onboard" }).click();
      await page.getByRole("link", { name: "Next" }).click();
      await page.getByRole("heading", { name: "Select Permissions" }).waitFor();
      const overflow = await sidewaysOverflow(page);
      if (overflow > 0) wide.push(`Select Permissions is ${overflow}px too wide`);
      await screenshot(page, `layout-${viewport.width}-select-permissions`);

      // A profile of someone else, with its History.
      await page.goto("/users?q=pat");
      await page.getByRole("link", { name: /Pat/ }).first().click();
      await page.getByRole("link", { name: "History" }).click();
      await page.getByRole("heading", { level: 2, name: "History" }).waitFor();
      if ((await sidewaysOverflow(page)) > 0) wide.push("a profile's History is too wide");
      await screenshot(page, `layout-${viewport.width}-profile-history`);

      // The partner's SCIM tokens and, beside them, its directory groups.
      await page.goto("/");
      await page.getByRole("link", { name: "SCIM tokens" }).click();
      await page.getByRole("heading", { level: 1, name: "SCIM tokens" }).waitFor();
      if ((await sidewaysOverflow(page)) > 0) wide.push("SCIM tokens is too wide");
      await screenshot(page, `layout-${viewport.width}-scim-tokens`);
      // A group from the directory, mapped to a role, so the page has its table and form.
      await page.getByLabel(/^Name/).fill("Layout IdP");
      await page.getByRole("button", { name: "Create SCIM token" }).click();
      const secret = (await page.locator(".token-secret code").textContent()).trim();
      const origin = new URL(page.url()).origin;
      const group = `Backlot Operators ${Date.now()}`;
      const created = await fetch(`${origin}/scim/v2/Groups`, {
        method: "POST",
        headers: { authorization: `Bearer ${secret}`, "content-type": "application/scim+json" },
        body: JSON.stringify({ displayName: group }),
      });
      assert.equal(created.status, 201);
      await page.getByRole("link", { name: "Directory groups" }).click();
      await page.getByRole("heading", { level: 1, name: "Directory groups" }).waitFor();
      const card = page.locator("section.card", { has: page.getByRole("heading", { name: group }) });
      await card.getByRole("button", { name: "Add role" }).click();
      await page.getByRole("status").filter({ hasText: "Role mapped" }).waitFor();
      if ((await sidewaysOverflow(page)) > 0) wide.push("Directory groups is too wide");
      await screenshot(page, `layout-${viewport.width}-scim-groups`);

      await page.context().clearCookies();
      await signIn(page, "eli.engineer@metrofiber.example");
      wide.push(...(await checkPages(page, portalPages, viewport.width)));

      await page.context().clearCookies();
      await signIn(page, "operator@starship.example");
      wide.push(...(await checkPages(page, operatorPages, viewport.width)));
      assert.deepEqual(wide, [], "pages that scroll sideways");
      assert.deepEqual(browser.problems, []);
    } finally {
      await browser.close();
    }
  });
}

test("on a phone the header folds into a menu and the profile tabs scroll", async () => {
  const browser = await openBrowser(PHONE);
  const { page } = browser;
  try {
    await signIn(page, "mara.master@sunrise.example");
    await page.goto("/");
    const nav = page.getByRole("navigation", { name: "Main" });
    assert.equal(await nav.isVisible(), false, "the main menu is folded");
    const header = await page.locator("header.topbar").boundingBox();
    assert.ok(header.height <= 72, `the top bar is ${header.height}px tall`);
    await page.getByText("Menu", { exact: true }).click();
    await nav.getByRole("link", { name: "Users" }).waitFor();
    await screenshot(page, "layout-390-menu-open");
    await nav.getByRole("link", { name: "Users" }).click();
    await page.waitForURL("**/users");

    // Every tab of a profile can be reached: the row scrolls inside itself.
    await page.goto("/");
    const tabs = page.getByRole("navigation", { name: "Profile sections" });
    const last = tabs.getByRole("link").last();
    await last.scrollIntoViewIfNeeded();
    assert.ok(await last.isVisible(), "the last tab scrolls into view");
    assert.equal(await sidewaysOverflow(page), 0);
    assert.deepEqual(browser.problems, []);
  } finally {
    await browser.close();
  }
});
