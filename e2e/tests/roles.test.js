// Removing a role on a profile's Roles tab: offered to whoever administers
// the role's application, and gone from the tab once removed.

import { test } from "node:test";
import assert from "node:assert/strict";
import { openBrowser, signIn, screenshot } from "./support.js";

test("an academy admin removes a learner's Academy User role on the Roles tab", async () => {
  const browser = await openBrowser();
  const { page } = browser;
  try {
    await signIn(page, "alex.academy@sunrise.example");
    await page.goto("/users?q=jamie");
    await page.getByRole("link", { name: /Jamie Learner/ }).click();
    await page.getByRole("heading", { name: "Jamie Learner", level: 1 }).waitFor();
    const productionRoles = page.locator("table", { has: page.getByRole("columnheader", { name: "Production" }) });
    await productionRoles.getByText("Home Theater Demo - MID (70030433)").waitFor();

    await page.getByRole("button", { name: "Remove the role Academy User" }).click();
    await page.getByText("Role removed.").waitFor();
    await page.getByText("No production roles.").waitFor();
    assert.equal(await page.getByRole("button", { name: /^Remove the role/ }).count(), 0, "nothing left to remove");
    await screenshot(page, "roles-removed");
    assert.deepEqual(browser.problems, []);
  } finally {
    await browser.close();
  }
});
