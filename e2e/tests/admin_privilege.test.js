// Seed 000, Adding Admin Privileges: search the user, open the Starship
// Admin Privileges tab, Add → pick an application → Submit. The colleague
// is a new person of this run holding Content Partner Operations.

import { test } from "node:test";
import assert from "node:assert/strict";
import { openBrowser, signIn, screenshot, step, unique, uniqueWord, literally, openProfile, historyRows, operator } from "./support.js";

test("a Backlot admin grants Backlot admin privileges to a colleague", async () => {
  const op = await operator();
  const name = `Casey ${uniqueWord()}`;
  const colleague = await op.person("Sunrise Studios", { email: `casey.${unique()}@sunrise.example`, first: "Casey", last: name.slice(6) });
  await op.grant(colleague.id, "backlot", "content-partner-operations");
  const browser = await openBrowser();
  const { page } = browser;
  try {
    await signIn(page, "mara.master@sunrise.example");
    await page.goto(`/users?q=${encodeURIComponent(name)}`);
    await page.getByRole("link", { name: literally(name) }).click();
    await page.getByRole("heading", { name, level: 1 }).waitFor();
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

    // Loaded afresh: the privilege is stored, once, and History says who added it.
    await openProfile(page, colleague.id, "admin-privileges");
    const stored = await page.locator("table tbody tr").evaluateAll((trs) =>
      trs.map((tr) => [tr.children[0].innerText.trim(), tr.children[1].innerText.trim()]),
    );
    assert.deepEqual(stored, [["Backlot", "Every production"]]);
    await openProfile(page, colleague.id, "history");
    const history = await historyRows(page);
    assert.equal(history[0].what, "Admin privileges added");
    assert.match(history[0].by, /^mara\.master@sunrise\.example on the website/);
    assert.match(history[0].details, /application: Backlot/);
    assert.deepEqual(browser.problems, []);
  } finally {
    await browser.close();
  }
});
