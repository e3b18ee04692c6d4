// Seed 002: the Partner Portal's Users grid, side panel and self-service,
// each level offered only what the matrix allows it.

import { test } from "node:test";
import assert from "node:assert/strict";
import { openBrowser, signIn, screenshot, step, unique } from "./support.js";

test("the portal's engineering user is not offered actions on an admin", async () => {
  const browser = await openBrowser();
  const { page } = browser;
  try {
    await signIn(page, "eli.engineer@metrofiber.example");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Partner Portal" }).click();
    await page.getByRole("heading", { name: "Contacts and portal users" }).waitFor();

    // A read-only user: Eli may administer and edit them, but not raise them to Admin.
    await page.getByRole("link", { name: "Rita Reader" }).click();
    const panel = page.getByRole("complementary", { name: "Rita Reader" });
    await panel.waitFor();
    await panel.getByRole("button", { name: "Revoke portal access" }).waitFor();
    await panel.getByRole("button", { name: "Delete contact" }).waitFor();
    await panel.getByRole("button", { name: "Save details" }).waitFor();
    const levels = await panel.getByLabel("Permission level").locator("option").allInnerTexts();
    assert.deepEqual(levels, ["Engineering", "Read-only"], "nobody grants a level above their own");
    await step(page, "portal-panel-read-only");

    // The admin: nothing to change is offered.
    await page.getByRole("link", { name: "Nora Admin" }).click();
    const admin = page.getByRole("complementary", { name: "Nora Admin" });
    await admin.getByText("Your permission level does not let you change Nora Admin.").waitFor();
    for (const name of ["Revoke portal access", "Delete contact", "Change level", "Save details", "Change email", "Save roles and sites"]) {
      assert.equal(await admin.getByRole("button", { name }).count(), 0, `${name} is not offered on an admin`);
    }
    assert.equal(await admin.getByRole("textbox").count(), 0, "no field to edit");
    assert.equal(await page.evaluate(() => document.activeElement.id), "panel-title", "focus moves to the panel");
    await screenshot(page, "portal-engineering-on-admin");
    assert.deepEqual(browser.problems, []);
  } finally {
    await browser.close();
  }
});

test("a portal admin adds a contact with the + button and invites them at a level", async () => {
  const browser = await openBrowser();
  const { page } = browser;
  try {
    await signIn(page, "nora.admin@metrofiber.example");
    await page.goto("/portal/users");
    await page.getByRole("button", { name: "Add a contact" }).click();
    const dialog = page.getByRole("dialog", { name: "New contact" });
    const email = `omar.${unique()}@metrofiber.example`;
    await dialog.getByLabel("First name").fill("Omar");
    await dialog.getByLabel("Last name").fill("Shipping");
    await dialog.getByLabel("Email", { exact: true }).fill(email);
    await dialog.getByRole("checkbox", { name: "Shipping" }).check();
    await dialog.getByRole("checkbox", { name: /Austin POP/ }).check();
    await dialog.getByRole("checkbox", { name: /Invite to the Partner Portal/ }).check();
    const levels = await dialog.getByLabel("Permission level").locator("option").allInnerTexts();
    assert.deepEqual(levels, ["Admin", "Engineering", "Read-only"], "an admin may invite at any level");
    await dialog.getByLabel("Permission level").selectOption({ label: "Engineering" });
    await step(page, "portal-new-contact");
    await dialog.getByRole("button", { name: "Add contact" }).click();

    await page.getByRole("status").filter({ hasText: "invited" }).waitFor();
    const row = page.getByRole("row", { name: new RegExp(email.replace(/[.]/g, "\\.")) });
    await row.getByText("Engineering · invited").waitFor();
    await row.getByText("Austin POP").waitFor();
    assert.deepEqual(browser.problems, []);
  } finally {
    await browser.close();
  }
});

test("engineering drains an appliance, edits its BGP and comments on a ticket", async () => {
  const browser = await openBrowser();
  const { page } = browser;
  try {
    await signIn(page, "eli.engineer@metrofiber.example");
    await page.goto("/portal/appliances");
    await page.getByRole("button", { name: "Drain OCA-AUS-0001 for maintenance" }).click();
    await page.getByRole("status").filter({ hasText: "drained for maintenance" }).waitFor();
    await page.getByRole("button", { name: "Return OCA-AUS-0001 to service" }).waitFor();

    await page.getByRole("button", { name: "Edit the BGP configuration of OCA-AUS-0001" }).click();
    const dialog = page.getByRole("dialog", { name: "BGP configuration of OCA-AUS-0001" });
    await dialog.getByLabel("Peer AS number").fill("64496");
    await dialog.getByLabel("Neighbour IPv4 address").fill("198.51.100.7");
    await dialog.getByRole("button", { name: "Save BGP" }).click();
    await dialog.getByText(/usable AS number/).waitFor();
    await dialog.getByLabel("Peer AS number").fill("2906");
    await dialog.getByRole("button", { name: "Save BGP" }).click();
    await page.getByRole("status").filter({ hasText: "BGP configuration saved" }).waitFor();
    await page.getByRole("row", { name: /OCA-AUS-0001/ }).getByText("AS2906").waitFor();

    await page.getByRole("link", { name: "Tickets" }).click();
    const ticket = page.getByRole("article", { name: "OCA-DEN-0002 reports high packet loss" });
    await ticket.getByLabel("Add a comment").fill("Optics replaced; loss is back to 0%.");
    await ticket.getByRole("button", { name: "Comment" }).click();
    await page.getByRole("article", { name: "OCA-DEN-0002 reports high packet loss" }).getByText("Optics replaced; loss is back to 0%.").waitFor();
    await screenshot(page, "portal-tickets");
    assert.deepEqual(browser.problems, []);
  } finally {
    await browser.close();
  }
});
