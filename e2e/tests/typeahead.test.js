// Seed 000, Searching for a User: type a name or email, pick from the
// drop-down of name and email, land on the profile.

import { test } from "node:test";
import assert from "node:assert/strict";
import { openBrowser, signIn, screenshot, step } from "./support.js";

test("the Users tab suggests users as you type and opens the one picked, by keyboard", async () => {
  const browser = await openBrowser();
  const { page } = browser;
  try {
    await signIn(page, "mara.master@sunrise.example");
    await page.getByRole("link", { name: "Users", exact: true }).click();
    const search = page.getByRole("combobox", { name: "Search users" });
    await search.pressSequentially("jam", { delay: 40 });
    const list = page.getByRole("listbox", { name: "Matching users" });
    const option = list.getByRole("option", { name: /Jamie Learner/ });
    await option.waitFor();
    assert.match(await option.innerText(), /jamie\.learner@sunrise\.example/);
    assert.equal(await list.getByRole("option", { name: /Nina North/ }).count(), 0, "another partner's users never show");

    // By email too; then keyboard only: arrow down, Enter.
    await search.fill("");
    await search.pressSequentially("pat.pl", { delay: 40 });
    await list.getByRole("option", { name: /Pat Plain/ }).waitFor();
    await search.press("ArrowDown");
    assert.equal(await search.getAttribute("aria-expanded"), "true");
    assert.match(await search.getAttribute("aria-activedescendant"), /user-option-0/);
    await step(page, "typeahead-open");
    await search.press("Enter");

    await page.getByRole("heading", { name: "Pat Plain", level: 1 }).waitFor();
    assert.match(page.url(), /\/users\/[0-9a-f-]+$/);
    await screenshot(page, "typeahead-profile");
    assert.deepEqual(browser.problems, []);
  } finally {
    await browser.close();
  }
});
