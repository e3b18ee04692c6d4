// Seed 001: the Production Academy admin onboards a user of the same
// facility: Onboard → Next → Select Roles → Academy User on Home Theater
// Demo - MID (70030433) → Grant Roles → crew department, country, courses →
// Save metadata; the user is emailed the link to the academy.

import { test } from "node:test";
import assert from "node:assert/strict";
import { openBrowser, signIn, screenshot, step } from "./support.js";

test("an academy admin grants Academy User on a production, then fills the metadata", async () => {
  const browser = await openBrowser();
  const { page } = browser;
  try {
    await signIn(page, "alex.academy@sunrise.example");
    await page.goto("/users?q=pat");
    await page.getByRole("link", { name: /Pat Plain/ }).click();
    await page.getByRole("link", { name: "Onboard" }).click();
    await page.getByRole("heading", { name: "Onboard Pat Plain" }).waitFor();
    await page.getByRole("link", { name: "Next" }).click();

    await page.getByRole("heading", { name: "Select Permissions" }).waitFor();
    // Select Roles with nobody selected says why, and keeps the dialog shut.
    await page.getByRole("button", { name: "Select Roles" }).click();
    await page.getByText("Select at least one user to assign roles to.").waitFor();
    await page.getByRole("checkbox", { name: /Pat Plain/ }).check();
    await page.getByRole("button", { name: "Select Roles" }).click();
    const dialog = page.getByRole("dialog", { name: "Select roles" });
    await dialog.waitFor();
    assert.equal(await dialog.getByText("Content Partner Operations").count(), 0, "Alex admins no Backlot");
    await dialog.getByRole("checkbox", { name: /^Academy User/ }).check();
    // No production picked: refused next to the picker.
    await dialog.getByRole("button", { name: "Assign Permissions to Users" }).click();
    await dialog.getByText(/granted on a production/).waitFor();
    await step(page, "academy-production-refused");
    await dialog.getByLabel("Production for Academy User").selectOption({ label: "Home Theater Demo - MID (70030433)" });
    await dialog.getByRole("button", { name: "Assign Permissions to Users" }).click();
    await page.getByText("Production Academy · Academy User · Home Theater Demo - MID (70030433)").waitFor();
    await page.getByRole("button", { name: "Grant roles" }).click();

    await page.getByRole("heading", { name: "Application metadata" }).waitFor();
    await page.getByRole("button", { name: "Save metadata" }).click();
    await page.locator("#crew_department-error").waitFor();
    await step(page, "academy-metadata-refused");
    await page.getByLabel(/Crew Department/).selectOption({ label: "Camera" });
    await page.getByLabel(/Country/).selectOption("FR");
    await page.getByRole("checkbox", { name: /Welcome to IMF/ }).check();
    await page.getByRole("checkbox", { name: /External Content Hub - Overview/ }).check();
    await step(page, "academy-metadata-form");
    await page.getByRole("button", { name: "Save metadata" }).click();

    await page.getByRole("heading", { name: "Roles granted" }).waitFor();
    const row = page.getByRole("row", { name: /Pat Plain/ });
    await row.getByText("Production Academy · Academy User · Home Theater Demo - MID (70030433)").waitFor();
    await row.getByText("Production Academy metadata saved.").waitFor();
    await screenshot(page, "academy-metadata");

    // The profile shows what was saved.
    await row.getByRole("link", { name: "Pat Plain" }).click();
    await page.getByRole("link", { name: "Application Metadata" }).click();
    assert.equal(await page.getByLabel(/Country/).inputValue(), "FR");
    assert.ok(await page.getByRole("checkbox", { name: /Welcome to IMF/ }).isChecked());
    assert.deepEqual(browser.problems, []);
  } finally {
    await browser.close();
  }
});
