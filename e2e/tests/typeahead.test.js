// Seed 000, Searching for a User: type a name or email, pick from the
// drop-down of name and email, land on the profile. Another partner's
// people never show, even when the query matches them: the flow makes two
// people of its own who share a first name and an address prefix, one at
// Sunrise Studios and one at Northwind Media.

import { test } from "node:test";
import assert from "node:assert/strict";
import { openBrowser, signIn, screenshot, step, unique, uniqueWord, operator } from "./support.js";

test("the Users tab suggests users as you type and opens the one picked, by keyboard", async () => {
  const op = await operator();
  const first = uniqueWord();
  const prefix = `tw.${unique()}.`;
  const ours = await op.person("Sunrise Studios", { email: `${prefix}sun@sunrise.example`, first, last: "Sunrise" });
  const theirs = await op.person("Northwind Media", { email: `${prefix}north@northwind.example`, first, last: "Northwind" });
  // The queries below match both people: an operator's search finds both.
  for (const query of [first, prefix]) {
    const found = (await op.get(`/api/v1/users?q=${encodeURIComponent(query)}`)).map((u) => u.id).sort();
    assert.deepEqual(found, [ours.id, theirs.id].sort(), `“${query}” matches both partners' people`);
  }

  const browser = await openBrowser();
  const { page } = browser;
  try {
    await signIn(page, "mara.master@sunrise.example");
    await page.getByRole("link", { name: "Users", exact: true }).click();
    const search = page.getByRole("combobox", { name: "Search users" });
    const list = page.getByRole("listbox", { name: "Matching users" });

    /** Types `query` and waits for the suggestions of that whole query. */
    async function suggest(query) {
      await search.fill("");
      const answered = page.waitForResponse((r) => {
        const url = new URL(r.url());
        return url.pathname === "/api/v1/users" && url.searchParams.get("q") === query;
      });
      await search.pressSequentially(query, { delay: 40 });
      const response = await answered;
      assert.equal(response.status(), 200);
      assert.deepEqual((await response.json()).map((u) => u.id), [ours.id], `“${query}” answers Mara with her partner's person only`);
      const option = list.getByRole("option", { name: new RegExp(`${first} Sunrise`) });
      await option.waitFor();
      assert.match(await option.innerText(), new RegExp(`${prefix.replace(/\./g, "\\.")}sun@sunrise\\.example`));
      assert.equal(await list.getByRole("option", { name: new RegExp(`${first} Northwind`) }).count(), 0, "another partner's person never shows");
      assert.equal(await list.getByRole("option").count(), 1);
    }

    // By name, then by email; then keyboard only: arrow down, Enter.
    await suggest(first);
    await suggest(prefix);
    await search.press("ArrowDown");
    assert.equal(await search.getAttribute("aria-expanded"), "true");
    assert.match(await search.getAttribute("aria-activedescendant"), /user-option-0/);
    await step(page, "typeahead-open");
    await search.press("Enter");

    await page.getByRole("heading", { name: `${first} Sunrise`, level: 1 }).waitFor();
    assert.equal(new URL(page.url()).pathname, `/users/${ours.id}`);
    await screenshot(page, "typeahead-profile");

    // The plain search (Enter without a suggestion) keeps the same rule.
    await page.goto(`/users?q=${encodeURIComponent(first)}`);
    const results = page.locator(".user-list li");
    assert.deepEqual(await results.locator(".user-name").allInnerTexts(), [`${first} Sunrise`]);
    // Nor does the other partner's profile open by its id.
    assert.equal((await page.request.get(`/users/${theirs.id}`)).status(), 404);
    assert.equal((await page.request.get(`/users/${ours.id}`)).status(), 200);
    assert.deepEqual(browser.problems, []);
  } finally {
    await browser.close();
  }
});
