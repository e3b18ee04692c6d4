// Removing a role on a profile's Roles tab: offered to whoever administers
// the role's application, and gone from the tab once removed. The learner
// is a new person of this run, given Academy User on 70030433 beforehand.

import { test } from "node:test";
import assert from "node:assert/strict";
import { openBrowser, signIn, screenshot, unique, uniqueWord, literally, openProfile, historyRows, operator } from "./support.js";

test("an academy admin removes a learner's Academy User role on the Roles tab", async () => {
  const op = await operator();
  const name = `Jamie ${uniqueWord()}`;
  const learner = await op.person("Sunrise Studios", { email: `jamie.${unique()}@sunrise.example`, first: "Jamie", last: name.slice(6) });
  await op.grant(learner.id, "production-academy", "academy-user", 70030433);
  const browser = await openBrowser();
  const { page } = browser;
  try {
    await signIn(page, "alex.academy@sunrise.example");
    await page.goto(`/users?q=${encodeURIComponent(name)}`);
    await page.getByRole("link", { name: literally(name) }).click();
    await page.getByRole("heading", { name, level: 1 }).waitFor();
    const productionRoles = page.locator("table", { has: page.getByRole("columnheader", { name: "Production" }) });
    await productionRoles.getByText("Home Theater Demo - MID (70030433)", { exact: true }).waitFor();

    // Remove asks first, naming what the learner loses; then Undo gives
    // the role back, and removing it again sticks.
    await page.getByLabel("Remove the role Academy User").click();
    await page.getByText(`Remove Academy User on Home Theater Demo - MID (70030433) from ${name}?`).waitFor();
    await page.getByText(/They lose: /).waitFor();
    await screenshot(page, "roles-remove-confirm");
    await page.getByRole("button", { name: "Yes, remove Academy User" }).click();
    await page.getByText("Role removed.").waitFor();
    await page.getByText("No production roles.").waitFor();
    await page.getByRole("button", { name: /^Undo: give back Academy User/ }).click();
    await page.getByText("Role given back.").waitFor();
    await productionRoles.getByText("Home Theater Demo - MID (70030433)", { exact: true }).waitFor();
    await page.getByLabel("Remove the role Academy User").click();
    await page.getByRole("button", { name: "Yes, remove Academy User" }).click();
    await page.getByText("Role removed.").waitFor();
    await page.getByText("No production roles.").waitFor();
    assert.equal(await page.locator("summary").filter({ hasText: "Remove" }).count(), 0, "nothing left to remove");
    await screenshot(page, "roles-removed");

    // Loaded afresh: the role is gone, and History says who removed it.
    await openProfile(page, learner.id, "roles");
    await page.getByText("No production roles.").waitFor();
    await page.getByText("No application roles.").waitFor();
    assert.equal(await page.getByRole("status").count(), 0, "no banner on a fresh load");
    const stored = await op.get(`/api/v1/users/${learner.id}`);
    assert.deepEqual(stored.roles, [], "no role is stored");
    await openProfile(page, learner.id, "history");
    const history = await historyRows(page);
    assert.equal(history[0].what, "Role revoked");
    assert.match(history[0].by, /^alex\.academy@sunrise\.example on the website/);
    assert.match(history[0].details, /Production Academy · production: 70030433 · role: Academy User/);
    assert.deepEqual(browser.problems, []);
  } finally {
    await browser.close();
  }
});
