// Seed 000, single user: Add User → names and locale → Next → Select
// Permissions → roles dialog → Assign Permissions to Users → Grant roles →
// the confirmation of every user and role → Exit Onboarding.

import { test } from "node:test";
import assert from "node:assert/strict";
import { openBrowser, signIn, screenshot, step, unique } from "./support.js";

// Keyboard only: every control is reached by focus and worked with Enter or
// Space, as someone without a mouse would.
test("a Master Content Partner Operations admin onboards one user with a Backlot role", async () => {
  const browser = await openBrowser();
  const { page } = browser;
  try {
    await signIn(page, "mara.master@sunrise.example");
    await page.getByRole("link", { name: "Users", exact: true }).press("Enter");
    await page.getByRole("link", { name: "Create and Onboard" }).press("Enter");

    const email = `ana.${unique()}@sunrise.example`;
    await page.getByLabel("Email address of the new user").fill(email);
    await page.getByLabel("Email address of the new user").press("Enter");

    await page.getByRole("heading", { name: "Add User" }).waitFor();
    assert.equal(await page.getByLabel("Email").inputValue(), email);
    // Next with no names: the errors sit next to the fields.
    await page.getByRole("button", { name: "Next" }).press("Enter");
    await page.locator("#first_name-error").waitFor();
    await step(page, "details-refused");
    assert.equal(await page.getByLabel("First name").getAttribute("aria-invalid"), "true");
    await page.getByLabel("First name").fill("Ana");
    await page.getByLabel("Last name").fill("Lopez");
    await page.getByLabel("Locale language").selectOption("fr-FR");
    await page.getByLabel("Last name").press("Enter");

    await page.getByRole("heading", { name: "Select Permissions" }).waitFor();
    await page.getByRole("checkbox", { name: new RegExp(`Ana Lopez`) }).press("Space");
    await page.getByRole("button", { name: "Select Roles" }).press("Enter");
    const dialog = page.getByRole("dialog", { name: "Select roles" });
    await dialog.waitFor();
    assert.ok(await dialog.evaluate((d) => d.contains(document.activeElement)), "focus moves into the dialog");
    // Mara admins Backlot only: Production Academy's roles are not offered.
    assert.equal(await dialog.getByText("Academy User").count(), 0);
    await dialog.getByRole("checkbox", { name: /^Content Partner Operations/ }).press("Space");
    await step(page, "roles-dialog");
    await dialog.getByRole("button", { name: "Assign Permissions to Users" }).press("Enter");

    await page.getByRole("status").filter({ hasText: "Roles assigned to 1 user" }).waitFor();
    await page.getByText("Backlot · Content Partner Operations").waitFor();
    await step(page, "permissions-assigned");
    await page.getByRole("button", { name: "Grant roles" }).press("Enter");

    await page.getByRole("heading", { name: "Roles granted" }).waitFor();
    const row = page.getByRole("row", { name: new RegExp(email.replace(/[.]/g, "\\.")) });
    await row.getByText("Backlot · Content Partner Operations").waitFor();
    await row.getByText("Granted").waitFor();
    await screenshot(page, "onboarding-single-user");

    await page.getByRole("link", { name: "Exit Onboarding" }).press("Enter");
    await page.getByRole("heading", { name: "Users" }).waitFor();
    assert.deepEqual(browser.problems, []);
  } finally {
    await browser.close();
  }
});
