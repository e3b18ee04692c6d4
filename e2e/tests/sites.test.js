// The Partner Portal's Sites page: each site with the contacts associated
// with it (and who is on its deployment survey); a portal admin adds a site
// and edits it; engineering reads the list without the forms.

import { test } from "node:test";
import assert from "node:assert/strict";
import { openBrowser, signIn, signOut, screenshot, uniqueWord } from "./support.js";

test("a portal admin adds and edits a site, and engineering only reads the list", async () => {
  const name = `Boulder ${uniqueWord()}`;
  const browser = await openBrowser();
  const { page } = browser;
  const row = (site) => page.getByRole("row", { name: new RegExp(site) });
  try {
    await signIn(page, "nora.admin@metrofiber.example");
    await page.goto("/portal/users");
    await page.getByRole("navigation", { name: "Partner Portal" }).getByRole("link", { name: "Sites" }).click();
    await page.getByRole("heading", { name: "Sites" }).waitFor();
    await row("Denver DC1").getByText("carl.customs@metrofiber.example · on the deployment survey").waitFor();
    await row("Austin POP").getByText("eli.engineer@metrofiber.example", { exact: true }).waitFor();

    await page.getByLabel("Site name").fill("denver dc1");
    await page.getByLabel("Location", { exact: true }).fill("Denver, US");
    await page.getByRole("button", { name: "Add site" }).click();
    await page.getByRole("alert").getByText(/already has a site with this name/).waitFor();

    await page.getByLabel("Site name").fill(name);
    await page.getByLabel("Location", { exact: true }).fill("Boulder, US");
    await page.getByRole("button", { name: "Add site" }).click();
    await page.getByRole("status").filter({ hasText: "Site added." }).waitFor();
    await row(name).getByText("Boulder, US").waitFor();

    await row(name).getByText(`Edit ${name}`).click();
    await page.getByLabel(`Location of ${name}`).fill("Longmont, US");
    await row(name).getByRole("button", { name: "Save site" }).click();
    await page.getByRole("status").filter({ hasText: "Site saved." }).waitFor();
    await row(name).getByText("Longmont, US").waitFor();
    await screenshot(page, "portal-sites");
    await signOut(page);

    await signIn(page, "eli.engineer@metrofiber.example");
    await page.goto("/portal/sites");
    await row(name).waitFor();
    assert.equal(await page.getByRole("button", { name: "Add site" }).count(), 0, "engineering does not add sites");
    assert.equal(await page.getByText(`Edit ${name}`).count(), 0, "nor edit them");
    assert.deepEqual(browser.problems, []);
  } finally {
    await browser.close();
  }
});
