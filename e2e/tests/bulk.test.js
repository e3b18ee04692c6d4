// Seed 000, Bulk Add Users: paste rows → Apply → every bad row marked and
// explained, nothing written → remove it → Next → Skip Roles → Exit Onboarding.

import { test } from "node:test";
import assert from "node:assert/strict";
import { openBrowser, signIn, screenshot, step, unique } from "./support.js";

test("a bulk add with one bad row shows why, adds the others, and skips roles", async () => {
  const browser = await openBrowser();
  const { page } = browser;
  try {
    await signIn(page, "mara.master@sunrise.example");
    await page.goto("/onboard");
    await page.getByRole("button", { name: "Bulk Add Users" }).click();
    const dialog = page.getByRole("dialog", { name: "Bulk Add Users" });
    const tag = unique();
    const rows = [
      `lee.${tag}@sunrise.example, en-GB, Lee, Park`,
      `kim.${tag}@sunrise.example, xx-YY, Kim, Moreau`,
      `rui.${tag}@sunrise.example\tpt-BR\tRui\tCosta`,
    ];
    await dialog.getByLabel(/One user per line/).fill(rows.join("\n"));
    await step(page, "bulk-dialog");
    await dialog.getByRole("button", { name: "Apply" }).click();

    await page.getByRole("heading", { name: "Confirm the new users" }).waitFor();
    await page.getByRole("alert").filter({ hasText: "1 of 3 rows cannot be added" }).waitFor();
    const bad = page.getByRole("row", { name: new RegExp(`kim\\.${tag}`) });
    await bad.getByText(/Locale: .*xx-YY/).waitFor();
    assert.match(await bad.getAttribute("class"), /row-bad/);
    assert.equal(await page.getByRole("button", { name: "Next" }).count(), 0, "no Next while a row is bad");

    await step(page, "bulk-review");
    await page.getByRole("button", { name: "Remove bad rows" }).click();
    await page.getByRole("status").filter({ hasText: "All 2 rows are ready to add" }).waitFor();
    await page.getByRole("button", { name: "Next" }).click();

    await page.getByRole("heading", { name: "Select Permissions" }).waitFor();
    await page.getByText(`lee.${tag}@sunrise.example`).waitFor();
    await page.getByText(`rui.${tag}@sunrise.example`).waitFor();
    await page.getByRole("button", { name: "Skip Roles" }).click();

    await page.getByRole("heading", { name: "Onboarding complete" }).waitFor();
    assert.equal(await page.getByText("No roles granted").count(), 2);
    await screenshot(page, "bulk-add-one-bad-row");
    await page.getByRole("link", { name: "Exit Onboarding" }).click();
    await page.getByRole("heading", { name: "Users" }).waitFor();
    assert.deepEqual(browser.problems, []);
  } finally {
    await browser.close();
  }
});
