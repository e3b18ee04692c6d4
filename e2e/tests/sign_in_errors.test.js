// A refused sign-in is tied to its fields: a screen reader reading the
// email or password field hears that it is wrong and why.

import { test } from "node:test";
import assert from "node:assert/strict";
import { openBrowser, screenshot, PHONE } from "./support.js";

/** What a field's aria-describedby points at, as text. */
async function description(page, label) {
  return page.getByLabel(label, { exact: true }).evaluate((field) =>
    (field.getAttribute("aria-describedby") || "")
      .split(" ")
      .filter(Boolean)
      .map((id) => document.getElementById(id)?.textContent.trim() ?? `(no element ${id})`)
      .join(" "),
  );
}

test("a wrong password is announced on both fields", async () => {
  const browser = await openBrowser(PHONE);
  const { page } = browser;
  try {
    await page.goto("/sign-in");
    await page.getByLabel("Email").fill("quinn.qc@clearview.example");
    await page.getByLabel("Password").fill("not her password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").waitFor();
    for (const label of ["Email", "Password"]) {
      assert.equal(await page.getByLabel(label, { exact: true }).getAttribute("aria-invalid"), "true", label);
      assert.match(await description(page, label), /email or password is not right/, label);
    }
    await screenshot(page, "sign-in-refused-390");

    await page.getByLabel("Email").fill("");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("Enter your email address").waitFor();
    assert.equal(await description(page, "Email"), "Enter your email address");
    assert.deepEqual(browser.problems, []);
  } finally {
    await browser.close();
  }
});
