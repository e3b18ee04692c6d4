// Seed 000, single user: Add User → names and locale → Next → Select
// Permissions → roles dialog → Assign Permissions to Users → Grant roles →
// the confirmation of every user and role → Exit Onboarding; then the new
// person's profile, loaded afresh, shows what was stored.

import { test } from "node:test";
import assert from "node:assert/strict";
import { openBrowser, signIn, screenshot, step, unique, uniqueWord, literally, openProfile, historyRows, operator } from "./support.js";

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
    // A last name of this run only, so the person picked below is this one.
    const last = `Lopez ${uniqueWord()}`;
    const name = `Ana ${last}`;
    // An address one of Sunrise's people has is caught on this first step,
    // with a link to that person; focus stays on the address.
    const field = page.getByLabel("Email address of the new user");
    await field.fill("pat.plain@sunrise.example");
    await field.press("Enter");
    await page.locator("#email-error").filter({ hasText: "A user with this email already exists" }).waitFor();
    assert.equal(await field.getAttribute("aria-invalid"), "true");
    assert.equal(await field.getAttribute("aria-describedby"), "email-error");
    assert.equal(await page.evaluate(() => document.activeElement.id), "email", "focus is on the address");
    assert.match(await page.getByRole("link", { name: "Open their profile" }).getAttribute("href"), /^\/users\//);
    await screenshot(page, "onboarding-email-taken");
    // Another partner's address: the neutral answer, no link.
    await field.fill("nina.north@northwind.example");
    await field.press("Enter");
    await page.locator("#email-error").filter({ hasText: "This address cannot be used for a new person" }).waitFor();
    assert.equal(await page.getByRole("link", { name: "Open their profile" }).count(), 0);

    await field.fill(email);
    await field.press("Enter");

    await page.getByRole("heading", { name: "Add User" }).waitFor();
    assert.equal(await page.getByLabel("Email").inputValue(), email);
    // The form comes before Next in tab order: Tab from the locale reaches Next.
    await page.getByLabel("Locale language").focus();
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement.textContent.trim()), "Next");
    // Next with no names: the errors sit next to the fields, and focus
    // lands on the first field in error.
    await page.getByRole("button", { name: "Next" }).press("Enter");
    await page.locator("#first_name-error").waitFor();
    await step(page, "details-refused");
    assert.equal(await page.getByLabel("First name").getAttribute("aria-invalid"), "true");
    assert.equal(await page.evaluate(() => document.activeElement.id), "first_name", "focus is on the first field in error");
    assert.match(await page.getByLabel("First name").getAttribute("aria-describedby"), /first_name-error/);
    await page.getByLabel("First name").fill("Ana");
    await page.getByLabel("Last name").fill(last);
    await page.getByLabel("Locale language").selectOption("fr-FR");
    await page.getByLabel("Last name").press("Enter");

    await page.getByRole("heading", { name: "Select Permissions" }).waitFor();
    // The lone user is selected already, and Grant roles waits for roles.
    assert.ok(await page.getByRole("checkbox", { name: literally(name) }).isChecked(), "the lone user is selected");
    assert.ok(await page.getByRole("button", { name: "Grant roles" }).isDisabled(), "nothing to grant yet");
    await step(page, "permissions-start");
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
    const row = page.getByRole("row", { name: literally(email) });
    await row.getByText("Backlot · Content Partner Operations").waitFor();
    await row.getByText("Granted").waitFor();
    await screenshot(page, "onboarding-single-user");
    const id = (await row.getByRole("link", { name }).getAttribute("href")).replace("/users/", "");

    await page.getByRole("link", { name: "Exit Onboarding" }).press("Enter");
    await page.getByRole("heading", { name: "Users" }).waitFor();

    // What was stored: found by search, the profile names the person, the
    // address and the locale, and the Roles tab holds the Backlot role.
    await page.goto(`/users?q=${encodeURIComponent(email)}`);
    const results = page.locator(".user-list li");
    assert.equal(await results.count(), 1, "exactly one user has the new address");
    await results.getByRole("link", { name: literally(name) }).click();
    await page.getByRole("heading", { name, level: 1 }).waitFor();
    assert.equal(new URL(page.url()).pathname, `/users/${id}`);
    await openProfile(page, id, "roles");
    await page.getByRole("heading", { name, level: 1 }).waitFor();
    await page.locator(".profile-id").getByText(email).waitFor();
    await page.locator(".profile-id").getByText("pending", { exact: true }).waitFor();
    assert.equal(await page.locator(".facts").getByText("fr-FR").count(), 1, "the locale chosen is stored");
    const roles = page.locator("table", { has: page.getByRole("columnheader", { name: "Gives access to" }) }).first();
    const stored = await roles.locator("tbody tr").evaluateAll((trs) =>
      trs.map((tr) => [tr.children[0].innerText.trim(), tr.children[1].innerText.trim()]),
    );
    assert.deepEqual(stored, [["Backlot", "Content Partner Operations"]], "the one role granted, and nothing else");
    await roles.getByText("Source Management", { exact: true }).waitFor();
    await page.getByText("No production roles.").waitFor();

    // History: created and granted, both by Mara.
    await openProfile(page, id, "history");
    const history = await historyRows(page);
    const granted = history.find((h) => h.what === "Role granted");
    assert.ok(granted, "the grant is in History");
    assert.match(granted.by, /^mara\.master@sunrise\.example on the website/);
    assert.match(granted.details, /application: Backlot · role: Content Partner Operations/);
    const created = history.find((h) => h.what === "Account created");
    assert.match(created.by, /^mara\.master@sunrise\.example on the website/);

    // The welcome email waits in the outbox, in the language chosen.
    const mail = await (await operator()).mail(email);
    assert.deepEqual(mail.map((m) => m.kind), ["welcome"]);
    assert.match(mail[0].subject, /^Bienvenue/);
    assert.deepEqual(browser.problems, []);
  } finally {
    await browser.close();
  }
});
