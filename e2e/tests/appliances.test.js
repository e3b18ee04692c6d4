// Appliances registered by an operator in the Partner Portal: one by one,
// from a CSV file (a bad row refuses the whole file, naming the row), and
// retired. Each run registers serials of its own.

import { test } from "node:test";
import assert from "node:assert/strict";
import { openBrowser, signIn, screenshot, step, unique } from "./support.js";

test("an operator registers appliances one by one and from a CSV, and retires one", async () => {
  const tag = unique().toUpperCase();
  const single = `OCA-E2E-${tag}`;
  const browser = await openBrowser();
  const { page } = browser;
  const row = (serial) => page.getByRole("row", { name: new RegExp(serial) });
  try {
    await signIn(page, "operator@starship.example");
    await page.goto("/portal/appliances");
    await page.getByLabel("Partner", { exact: true }).selectOption({ label: "Metro Fiber" });
    await page.getByRole("button", { name: "Show" }).click();
    await row("OCA-DEN-0001").waitFor();

    const register = page.getByRole("form", { name: "Register an appliance" });
    await register.getByLabel("Site").selectOption({ label: "Denver DC1 (Denver, US)" });
    await register.getByLabel("Serial").fill(single);
    await register.getByLabel("Model").fill("Flash OCA");
    await register.getByRole("button", { name: "Register appliance" }).click();
    await page.getByRole("status").filter({ hasText: "Appliance registered." }).waitFor();
    await row(single).getByText("Serving", { exact: true }).waitFor();

    // A CSV file with a bad row: nothing is registered, the row is named.
    const csv = page.getByRole("form", { name: "Register from a CSV" });
    const bad = `site,serial,model\nDenver DC1,OCA-CSV-${tag}-1,Flash OCA\nNowhere,OCA-CSV-${tag}-2,Flash OCA\n`;
    await csv.getByLabel("CSV file").setInputFiles({ name: "appliances.csv", mimeType: "text/csv", buffer: Buffer.from(bad) });
    await page.waitForFunction(() => document.getElementById("csv").value.startsWith("site,serial,model"));
    await csv.getByRole("button", { name: "Register from CSV" }).click();
    await page.getByRole("alert").filter({ hasText: "Nothing was registered" }).waitFor();
    await page.getByRole("alert").getByText("Line 3, site: 'Nowhere' is not a site of this partner").waitFor();
    assert.equal(await row(`OCA-CSV-${tag}-1`).count(), 0, "the good row waits for the bad one");
    await step(page, "portal-appliances-csv-refused");

    const good = `site,serial,model\nDenver DC1,OCA-CSV-${tag}-1,Flash OCA\nAustin POP,OCA-CSV-${tag}-2,Storage OCA\n`;
    await page.getByLabel("Rows").fill(good);
    await page.getByRole("button", { name: "Register from CSV" }).click();
    await page.getByRole("status").filter({ hasText: "2 appliances registered from the CSV." }).waitFor();
    await row(`OCA-CSV-${tag}-2`).getByText("Austin POP", { exact: true }).waitFor();

    await page.getByRole("button", { name: `Retire ${single}` }).click();
    await page.getByRole("status").filter({ hasText: "Appliance retired." }).waitFor();
    await row(single).getByText("Retired", { exact: true }).first().waitFor();
    await row(single).getByText(`2 events of ${single}`).click();
    const history = await row(single).locator(".events li").allInnerTexts();
    assert.equal(history.length, 2);
    assert.match(history[0], /^Registered · .* · operator@starship\.example$/);
    assert.match(history[1], /^Retired · /);
    assert.equal(await page.getByRole("button", { name: `Drain ${single} for maintenance` }).count(), 0, "a retired appliance is not drained");
    await screenshot(page, "portal-appliances-operator");
    assert.deepEqual(browser.problems, []);
  } finally {
    await browser.close();
  }
});
