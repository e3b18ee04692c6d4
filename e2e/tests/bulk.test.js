// Seed 000, Bulk Add Users: paste rows → Apply → every bad row marked and
// explained, nothing written → remove it → Next → Skip Roles → Exit
// Onboarding; then each new person's profile, loaded afresh, shows what
// was stored, and the bad row's person does not exist.

import { test } from "node:test";
import assert from "node:assert/strict";
import { openBrowser, signIn, screenshot, step, unique, literally, openProfile, historyRows, operator } from "./support.js";

test("a bulk add with one bad row shows why, adds the others, and skips roles", async () => {
  const browser = await openBrowser();
  const { page } = browser;
  const op = await operator();
  const exists = async (email) => (await op.get(`/api/v1/users?q=${encodeURIComponent(email)}`)).some((u) => u.email === email);
  try {
    await signIn(page, "mara.master@sunrise.example");
    await page.goto("/onboard");
    await page.getByRole("button", { name: "Bulk Add Users" }).click();
    const dialog = page.getByRole("dialog", { name: "Bulk Add Users" });
    const tag = unique();
    const lee = { email: `lee.${tag}@sunrise.example`, name: "Lee Park", locale: "en-GB" };
    const kim = `kim.${tag}@sunrise.example`;
    const rui = { email: `rui.${tag}@sunrise.example`, name: "Rui Costa", locale: "pt-BR" };
    const rows = [`${lee.email}, en-GB, Lee, Park`, `${kim}, xx-YY, Kim, Moreau`, `${rui.email}\tpt-BR\tRui\tCosta`];
    await dialog.getByLabel(/One user per line/).fill(rows.join("\n"));
    await step(page, "bulk-dialog");
    await dialog.getByRole("button", { name: "Apply" }).click();

    await page.getByRole("heading", { name: "Confirm the new users" }).waitFor();
    await page.getByRole("alert").filter({ hasText: "1 of 3 rows cannot be added" }).waitFor();
    const bad = page.getByRole("row", { name: literally(kim) });
    await bad.getByText(/Locale: .*xx-YY/).waitFor();
    assert.match(await bad.getAttribute("class"), /row-bad/);
    assert.equal(await page.getByRole("button", { name: "Next" }).count(), 0, "no Next while a row is bad");
    for (const email of [lee.email, kim, rui.email]) assert.equal(await exists(email), false, `${email} is not written before confirming`);

    await step(page, "bulk-review");
    await page.getByRole("button", { name: "Remove bad rows" }).click();
    await page.getByRole("status").filter({ hasText: "All 2 rows are ready to add" }).waitFor();
    await page.getByRole("button", { name: "Next" }).click();

    await page.getByRole("heading", { name: "Select Permissions" }).waitFor();
    await page.getByText(lee.email).waitFor();
    await page.getByText(rui.email).waitFor();
    await page.getByRole("button", { name: "Skip Roles" }).click();

    await page.getByRole("heading", { name: "Onboarding complete" }).waitFor();
    assert.equal(await page.getByText("No roles granted").count(), 2);
    await screenshot(page, "bulk-add-one-bad-row");
    const ids = {};
    for (const person of [lee, rui]) {
      const link = page.getByRole("row", { name: literally(person.email) }).getByRole("link", { name: person.name });
      ids[person.email] = (await link.getAttribute("href")).replace("/users/", "");
    }
    await page.getByRole("link", { name: "Exit Onboarding" }).click();
    await page.getByRole("heading", { name: "Users" }).waitFor();

    // What was stored: each person with their name, address and locale,
    // no roles, created by Mara; the bad row's person nowhere.
    for (const person of [lee, rui]) {
      const id = ids[person.email];
      await openProfile(page, id, "roles");
      await page.getByRole("heading", { name: person.name, level: 1 }).waitFor();
      await page.locator(".profile-id").getByText(person.email).waitFor();
      await page.locator(".facts").getByText(person.locale, { exact: true }).waitFor();
      await page.getByText("No application roles.").waitFor();
      await page.getByText("No production roles.").waitFor();
      await openProfile(page, id, "history");
      const history = await historyRows(page);
      assert.deepEqual(history.map((h) => h.what), ["Account created"], `${person.email}: created, nothing else`);
      assert.match(history[0].by, /^mara\.master@sunrise\.example on the website/);
    }
    await page.goto(`/users?q=${encodeURIComponent(kim)}`);
    await page.getByText(`No user matches “${kim}”.`).waitFor();
    assert.equal(await exists(kim), false, "the removed bad row was never added");
    assert.equal(await exists(lee.email), true, "the same look-up finds the people added");
    assert.deepEqual(browser.problems, []);
  } finally {
    await browser.close();
  }
});
