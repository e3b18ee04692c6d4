// Seed 001: the Production Academy admin onboards a user of the same
// facility: Onboard → Next → Select Roles → Academy User on Home Theater
// Demo - MID (70030433) → Grant Roles → crew department, country, courses →
// Save metadata; the user is emailed the link to the academy. The learner
// is a new person of this run; their profile, loaded afresh, shows what
// was stored.

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  openBrowser,
  signIn,
  screenshot,
  step,
  unique,
  uniqueWord,
  literally,
  openProfile,
  historyRows,
  operator,
  sidewaysOverflow,
  PHONE,
} from "./support.js";

test("an academy admin grants Academy User on a production, then fills the metadata", async () => {
  const op = await operator();
  const name = `Pat ${uniqueWord()}`;
  const learner = await op.person("Sunrise Studios", {
    email: `pat.${unique()}@sunrise.example`,
    first: "Pat",
    last: name.slice(4),
  });
  const browser = await openBrowser();
  const { page } = browser;
  try {
    await signIn(page, "alex.academy@sunrise.example");
    await page.goto(`/users?q=${encodeURIComponent(name)}`);
    await page.getByRole("link", { name: literally(name) }).click();
    await page.getByRole("link", { name: "Onboard" }).click();
    await page.getByRole("heading", { name: `Onboard ${name}` }).waitFor();
    await page.getByRole("link", { name: "Next" }).click();

    await page.getByRole("heading", { name: "Select Permissions" }).waitFor();
    // The lone user is selected already; with nobody selected, Select
    // Roles says why and keeps the dialog shut.
    const learnerBox = page.getByRole("checkbox", { name: literally(name) });
    assert.ok(await learnerBox.isChecked(), "the lone user is selected");
    await learnerBox.uncheck();
    await page.getByRole("button", { name: "Select Roles" }).click();
    await page.getByText("Select at least one user to assign roles to.").waitFor();
    await learnerBox.check();
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
    const row = page.getByRole("row", { name: literally(name) });
    await row.getByText("Production Academy · Academy User · Home Theater Demo - MID (70030433)").waitFor();
    await row.getByText("Production Academy metadata saved.").waitFor();
    // The confirmation says the email was queued, with the direct link an
    // admin may share (seed 001).
    await row.getByText(`An email with the link to Production Academy was queued for ${learner.email}.`).waitFor();
    const direct = row.getByRole("link", { name: "https://academy.netflix.com" });
    assert.equal(await direct.getAttribute("href"), "https://academy.netflix.com");
    await screenshot(page, "academy-metadata");
    await page.setViewportSize(PHONE);
    assert.equal(await sidewaysOverflow(page), 0, "the confirmation fits a phone");
    await screenshot(page, "academy-metadata-390");
    await page.setViewportSize({ width: 1366, height: 860 });

    // What was stored. Roles: Academy User on the production, nothing else.
    await openProfile(page, learner.id, "roles");
    await page.getByRole("heading", { name, level: 1 }).waitFor();
    await page.getByText("No application roles.").waitFor();
    const productionRoles = page.locator("table", { has: page.getByRole("columnheader", { name: "Production" }) });
    const stored = await productionRoles.locator("tbody tr").evaluateAll((trs) =>
      trs.map((tr) => [0, 1, 2].map((i) => tr.children[i].innerText.trim())),
    );
    assert.deepEqual(stored, [["Production Academy", "Academy User", "Home Theater Demo - MID (70030433)"]]);

    // Metadata: the department, the country and exactly the two courses.
    await openProfile(page, learner.id, "metadata");
    const academy = page.getByRole("region", { name: "Production Academy" });
    assert.equal(await academy.getByLabel(/Crew Department/).locator("option:checked").innerText(), "Camera");
    assert.equal(await academy.getByLabel(/Country/).inputValue(), "FR");
    const courses = await academy.locator("input[type=checkbox][name=courses]:checked").evaluateAll((c) => c.map((x) => x.value));
    assert.deepEqual(courses.sort(), ["ECH_Overview", "IMF101"]);

    // History: both writes, by Alex.
    await openProfile(page, learner.id, "history");
    const history = await historyRows(page);
    const granted = history.find((h) => h.what === "Role granted");
    assert.match(granted.by, /^alex\.academy@sunrise\.example on the website/);
    assert.match(granted.details, /Production Academy · production: 70030433 · role: Academy User/);
    const saved = history.find((h) => h.what === "Application metadata saved");
    assert.match(saved.by, /^alex\.academy@sunrise\.example on the website/);

    // The learner is emailed the link to the academy, naming the courses.
    const mail = (await op.mail(learner.email)).filter((m) => m.kind === "academy-courses");
    assert.equal(mail.length, 1, "one academy email");
    assert.match(mail[0].body, /Welcome to IMF/);
    assert.match(mail[0].body, /https?:\/\//);
    assert.deepEqual(browser.problems, []);
  } finally {
    await browser.close();
  }
});
