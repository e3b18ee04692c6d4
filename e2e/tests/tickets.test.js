// Tickets in the Partner Portal: a read-only user opens one from the New
// ticket page (the NOC contact is emailed), and a portal admin moves it to
// another status on the ticket's page (the opener is emailed). Each run
// opens a ticket of its own.

import { test } from "node:test";
import assert from "node:assert/strict";
import { openBrowser, signIn, signOut, screenshot, step, unique, operator } from "./support.js";

test("a read-only user opens a ticket and a portal admin moves it to waiting on partner", async () => {
  const op = await operator();
  const subject = `Packet loss at Denver (${unique()})`;
  const browser = await openBrowser();
  const { page } = browser;
  try {
    await signIn(page, "rita.readonly@metrofiber.example");
    await page.goto("/portal/tickets");
    await page.getByRole("link", { name: "New ticket" }).click();
    await page.getByRole("heading", { name: "New ticket" }).waitFor();

    // Nothing to say yet: the form says so and keeps what was typed.
    await page.getByLabel("Subject").fill(subject);
    await page.getByRole("button", { name: "Open ticket" }).click();
    await page.locator("#body-error").waitFor();
    assert.equal(await page.getByLabel("Subject").inputValue(), subject);
    assert.equal(await page.getByLabel("What happened").getAttribute("aria-invalid"), "true");

    await page.getByLabel("What happened").fill("3% loss on the Denver uplink since 09:00.");
    await page.getByLabel("Site (optional)").selectOption({ label: "Denver DC1 (Denver, US)" });
    await page.getByLabel("Appliance (optional)").selectOption({ label: "OCA-DEN-0001 · Storage OCA at Denver DC1" });
    await step(page, "portal-new-ticket");
    await page.getByRole("button", { name: "Open ticket" }).click();
    await page.getByRole("status").filter({ hasText: "Ticket opened" }).waitFor();
    await page.getByRole("heading", { name: subject }).waitFor();
    await page.getByText("Site Denver DC1 · Appliance OCA-DEN-0001").waitFor();
    assert.equal((await page.locator("#ticket-status").textContent()).trim(), "Open");
    assert.equal(await page.getByLabel("Change status").count(), 0, "the read-only level does not change a status");
    const ticketUrl = new URL(page.url()).pathname;

    const noc = await op.mail("noah.noc@metrofiber.example");
    assert.ok(noc.some((m) => m.subject === `New ticket: ${subject}`), "the NOC contact is emailed");
    await signOut(page);

    await signIn(page, "nora.admin@metrofiber.example");
    await page.goto(ticketUrl);
    const options = await page.getByLabel("Change status").locator("option").allInnerTexts();
    assert.deepEqual(options, ["Waiting on partner", "Waiting on the operator", "Resolved", "Closed"]);
    await page.getByLabel("Change status").selectOption({ label: "Waiting on partner" });
    await page.getByRole("button", { name: "Save status" }).click();
    await page.getByRole("status").filter({ hasText: "Status changed" }).waitFor();
    assert.equal((await page.locator("#ticket-status").textContent()).trim(), "Waiting on partner");
    await screenshot(page, "portal-ticket");

    const rita = await op.mail("rita.readonly@metrofiber.example");
    assert.ok(rita.some((m) => m.subject === `Ticket Waiting on partner: ${subject}`), "the opener is emailed");
    assert.deepEqual(browser.problems, []);
  } finally {
    await browser.close();
  }
});
