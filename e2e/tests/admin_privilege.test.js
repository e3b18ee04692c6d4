// Seed 000, Adding Admin Privileges: search the user, open the Starship
// Admin Privileges tab, Add → pick an application → Submit.

import { test } from "node:test";
import assert from "node:assert/strict";
import { openBrowser, signIn, screenshot, step } from "./support.js";

test("a Backlot admin grants Backlot admin privileges to a colleague", async () => {
  const browser = await openBrowser();
  const { page } = browser;
  try {
    await signIn(page, "mara.master@sunrise.example");
    await page.goto("/users?q=casey");
    await page.getByRole("link", { name: /Casey Operations/ }).click();
    await page.getByRole("heading", { name: "Casey Operations", level: 1 }).waitFor();
    await page.getByRole("link", { name: "Starship Admin Privileges" }).click();
    await page.getByText("No admin privileges.").waitFor();

    await page.getByRole("button", { name: "Add" }).click();
    const dialog = page.getByRole("dialog", { name: "Add admin privileges" });
    await dialog.waitFor();
    const choices = await dialog.getByLabel("Application").locator("option").allInnerTexts();
    assert.deepEqual(choices, ["Choose an application", "Backlot"], "only what Mara admins is offered");
    // Escape closes the dialog and gives focus back to Add.
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    assert.equal(await page.evaluate(() => document.activeElement.textContent.trim()), "Add");

    await page.keyboard.press("Enter");
    await dialog.waitFor();
    await dialog.getByLabel("Application").selectOption({ label: "Backlot" });
    await step(page, "admin-dialog");
    await dialog.getByRole("button", { name: "Submit" }).click();

    await page.getByRole("status").filter({ hasText: "Admin privileges added" }).waitFor();
    const row = page.getByRole("row", { name: /Backlot/ });
    await row.getByText("Every production").waitFor();
    await screenshot(page, "admin-privilege-granted");
    assert.deepEqual(browser.problems, []);
  } finally {
    await browser.close();
  }
});
