// Issue 15, everyday lists: search matches any part of a name or email as
// you type; the Users page lists everyone before anything is typed (pages
// both ways, sortable); the Applications tab shows role holders with a
// total, a toggle for everyone and filters by role, production and status.
// The lists are checked at a laptop's and a phone's width.

import { test, before } from "node:test";
import assert from "node:assert/strict";
import { openBrowser, signIn, screenshot, sidewaysOverflow, uniqueWord, unique, operator, DESKTOP, PHONE } from "./support.js";

let word;

before(async () => {
  const op = await operator();
  word = uniqueWord();
  // Enough people that Sunrise's list has a second page.
  for (let i = 0; i < 26; i += 1) {
    await op.person("Sunrise Studios", {
      email: `list.${unique()}.${i}@sunrise.example`,
      first: `Lister${String.fromCharCode(97 + (i % 26))}`,
      last: `Ost${word}mann`,
    });
  }
});

test("search suggests people by a piece from inside their surname", async () => {
  const browser = await openBrowser();
  const { page } = browser;
  try {
    await signIn(page, "mara.master@sunrise.example");
    await page.goto("/users");
    const search = page.getByRole("combobox", { name: "Search users" });
    const piece = `${word.toLowerCase()}ma`;
    const answered = page.waitForResponse((r) => new URL(r.url()).searchParams.get("q") === piece);
    await search.pressSequentially(piece, { delay: 40 });
    const found = await (await answered).json();
    assert.ok(found.length > 0, "a piece from inside the surname finds the people");
    assert.ok(found.every((u) => u.last_name === `Ost${word}mann`));
    await page.getByRole("listbox", { name: "Matching users" }).getByRole("option").first().waitFor();
    await screenshot(page, "lists-search-inside");

    // The page's own results, by an email domain.
    await page.goto("/users?q=sunrise.example");
    assert.ok((await page.getByRole("link", { name: /Lister/ }).count()) > 0, "found by the domain of their address");
  } finally {
    await browser.close();
  }
});

for (const viewport of [DESKTOP, PHONE]) {
  test(`the Users page lists everyone a page at a time, sortable, at ${viewport.width}px`, async () => {
    const browser = await openBrowser(viewport);
    const { page } = browser;
    try {
      await signIn(page, "mara.master@sunrise.example");
      await page.goto("/users");
      await page.getByRole("heading", { name: "Everyone" }).waitFor();
      const table = page.getByRole("table", { name: "Everyone" });
      const firstPage = await table.getByRole("rowheader").allInnerTexts();
      assert.equal(firstPage.length, 25, "a full first page before anything is typed");
      assert.equal(await page.getByRole("link", { name: "Previous page" }).count(), 0);
      assert.equal(await sidewaysOverflow(page), 0, "nothing scrolls sideways");
      await screenshot(page, `lists-users-${viewport.width}`);

      await page.getByRole("link", { name: "Next page" }).click();
      await page.getByRole("link", { name: "Previous page" }).waitFor();
      const secondPage = await table.getByRole("rowheader").allInnerTexts();
      assert.ok(secondPage.length > 0 && secondPage.every((n) => !firstPage.includes(n)), "the next people");
      await page.getByRole("link", { name: "Previous page" }).click();
      await page.getByRole("link", { name: "Next page" }).waitFor();
      assert.deepEqual(await table.getByRole("rowheader").allInnerTexts(), firstPage, "and back");

      await page.getByRole("columnheader", { name: "Email" }).getByRole("link").click();
      await page.waitForURL("**/users?sort=email");
      assert.equal(await page.getByRole("columnheader", { name: /Email/ }).getAttribute("aria-sort"), "ascending");
      const emails = await table.locator("tbody td.wrap-anywhere").allInnerTexts();
      assert.deepEqual(emails, [...emails].sort(), "in email order");
      assert.equal(await sidewaysOverflow(page), 0);
    } finally {
      await browser.close();
    }
  });

  test(`the Applications tab shows role holders with a total and filters at ${viewport.width}px`, async () => {
    const browser = await openBrowser(viewport);
    const { page } = browser;
    try {
      await signIn(page, "mara.master@sunrise.example");
      await page.goto("/applications/backlot");
      const total = page.locator(".list-total");
      assert.match(await total.innerText(), /^\d+ users? holding a role in Backlot$/);
      assert.equal(await page.getByRole("link", { name: "Pat Plain" }).count(), 0, "Pat holds no Backlot role");

      await page.getByLabel("Everyone, not only role holders").check();
      // Other flows add people named Pat to Sunrise; the filter takes the
      // start of "first last", and Pat Plain is the only one.
      await page.getByLabel("Filter by name").fill("Pat Plain");
      await page.getByRole("button", { name: "Filter" }).click();
      await page.getByRole("link", { name: "Pat Plain" }).waitFor();
      assert.match(await total.innerText(), /^1 user of the partner$/, "everyone named Pat Plain");
      assert.equal(await sidewaysOverflow(page), 0, "nothing scrolls sideways");
      await screenshot(page, `lists-applications-everyone-${viewport.width}`);

      await page.getByLabel("Filter by name").fill("");
      await page.getByLabel("Status", { exact: true }).selectOption("pending");
      await page.getByRole("button", { name: "Filter" }).click();
      await page.waitForURL(/status=pending/);
      const statuses = await page.locator("tbody .badge").allInnerTexts();
      assert.ok(statuses.length > 0 && statuses.every((s) => s.trim().toLowerCase() === "pending"), `${statuses}`);

      await page.getByLabel("Status", { exact: true }).selectOption("");
      await page.getByLabel("Role", { exact: true }).selectOption({ label: "Master Content Partner Operations" });
      await page.getByRole("button", { name: "Filter" }).click();
      await page.getByRole("link", { name: /Mara/ }).waitFor();
      assert.equal(await page.getByRole("link", { name: "Pat Plain" }).count(), 0, "the role filter lists its holders only");
      assert.equal(await sidewaysOverflow(page), 0);
    } finally {
      await browser.close();
    }
  });
}
