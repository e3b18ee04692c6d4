// The outbox for operators: a new person's welcome email to an address the
// mail server refuses for good (the e2e SMTP sink refuses "bounce"
// addresses) fails; the operator finds it on the Outbox page by part of the
// address and the Failed status, and sends it again with Resend, which
// their History records.

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  openBrowser,
  signIn,
  screenshot,
  sidewaysOverflow,
  unique,
  uniqueWord,
  operator,
  BASE,
  PASSWORD,
  PHONE,
} from "./support.js";

const WIDE = { width: 1366, height: 860 };

/** The History export of accounts of no partner (operators), as the operator reads it. */
async function operatorsHistory() {
  const session = await fetch(`${BASE}/api/v1/session`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: "operator@starship.example", password: PASSWORD }),
  });
  const cookie = session.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  const response = await fetch(`${BASE}/api/v1/history/export`, { headers: { cookie } });
  assert.equal(response.status, 200);
  return (await response.text()).split("\n").filter(Boolean).map((line) => JSON.parse(line));
}

/** Waits until the newest message to `address` has `status`; returns it. */
async function waitForStatus(op, address, status) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const [newest] = await op.mail(address);
    if (newest && newest.status === status) return newest;
    if (Date.now() > deadline) throw new Error(`the email to ${address} is ${newest?.status}, not ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

test("an operator finds a failed email by recipient and status and resends it", async () => {
  const op = await operator();
  const tag = unique();
  const email = `bounce.${tag}@sunrise.example`;
  await op.person("Sunrise Studios", { email, first: "Bo", last: uniqueWord() });
  const failed = await waitForStatus(op, email, "failed");
  assert.match(failed.last_error, /550/);

  const browser = await openBrowser(WIDE);
  const { page } = browser;
  try {
    await signIn(page, "operator@starship.example");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Outbox" }).click();
    await page.getByRole("heading", { name: "Outbox", level: 1 }).waitFor();
    await page.getByLabel("Recipient").fill(`BOUNCE.${tag}`);
    await page.getByLabel("Status").selectOption("failed");
    await page.getByRole("button", { name: "Search" }).click();
    await page.waitForURL(/status=failed/);
    const rows = page.locator("table.outbox tbody tr");
    assert.equal(await rows.count(), 1, "only the failed email to that address");
    const row = rows.first();
    assert.equal(await row.getByRole("rowheader").innerText(), email);
    await row.locator(".badge", { hasText: "failed" }).waitFor();
    await row.getByText(/550/).waitFor();
    await screenshot(page, "outbox-failed");

    // Sent emails are not offered Resend; failed ones are.
    await row.getByRole("button", { name: `Resend the email to ${email}: ${failed.subject}` }).click();
    await page.getByRole("status").filter({ hasText: "The email is queued again" }).waitFor();
    const url = new URL(page.url());
    assert.equal(url.searchParams.get("q"), `BOUNCE.${tag}`, "the search is kept");
    await screenshot(page, "outbox-resent");

    // The operator's own History (the chain of accounts of no partner)
    // records the resend, naming the message.
    const resent = (await operatorsHistory()).filter((h) => h.action === "outbox.resent");
    assert.ok(
      resent.some((h) => h.details.message_id === failed.id && h.actor === "operator@starship.example" && h.source === "web"),
      `the operator's History names the message: ${JSON.stringify(resent)}`,
    );
    // Queued again, the dispatcher tries it again (and the sink refuses it again).
    const again = await waitForStatus(op, email, "failed");
    assert.equal(again.id, failed.id);

    await page.setViewportSize(PHONE);
    await page.goto(`/outbox?q=${tag}`);
    assert.equal(await sidewaysOverflow(page), 0, "the outbox fits a phone");
    await screenshot(page, "outbox-390");
    assert.deepEqual(browser.problems, []);
  } finally {
    await browser.close();
  }
});
