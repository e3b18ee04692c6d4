// Seed 002: the Partner Portal's Users grid, side panel and self-service,
// each level offered only what the matrix allows it. The people acted on
// are new people of each run; the one appliance a flow changes is put
// back in service by that flow, and every value it saves is new.

import { test } from "node:test";
import assert from "node:assert/strict";
import { openBrowser, signIn, screenshot, step, unique, uniqueWord, literally, operator } from "./support.js";

test("the portal's engineering user is not offered actions on an admin", async () => {
  const op = await operator();
  const tag = uniqueWord();
  const reader = `Rita ${tag}`;
  const admin = `Nora ${tag}`;
  const people = [
    [reader, "read-only"],
    [admin, "admin"],
  ];
  for (const [name, level] of people) {
    const [first, last] = name.split(" ");
    await op.person("Metro Fiber", { email: `${first.toLowerCase()}.${unique()}@metrofiber.example`, first, last, portal_level: level });
  }
  const browser = await openBrowser();
  const { page } = browser;
  try {
    await signIn(page, "eli.engineer@metrofiber.example");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Partner Portal" }).click();
    await page.getByRole("heading", { name: "Contacts and portal users" }).waitFor();

    // A read-only user: Eli may administer and edit them, but not raise them to Admin.
    await page.getByRole("link", { name: reader, exact: true }).click();
    const panel = page.getByRole("complementary", { name: reader });
    await panel.waitFor();
    await panel.getByRole("button", { name: "Revoke portal access" }).waitFor();
    await panel.getByRole("button", { name: "Delete contact" }).waitFor();
    await panel.getByRole("button", { name: "Save details" }).waitFor();
    const levels = await panel.getByLabel("Permission level").locator("option").allInnerTexts();
    assert.deepEqual(levels, ["Engineering", "Read-only"], "nobody grants a level above their own");
    await step(page, "portal-panel-read-only");

    // The admin: nothing to change is offered.
    await page.getByRole("link", { name: admin, exact: true }).click();
    const adminPanel = page.getByRole("complementary", { name: admin });
    await adminPanel.getByText(`Your permission level does not let you change ${admin}.`).waitFor();
    for (const name of ["Revoke portal access", "Delete contact", "Change level", "Save details", "Change email", "Save roles and sites"]) {
      assert.equal(await adminPanel.getByRole("button", { name }).count(), 0, `${name} is not offered on an admin`);
    }
    assert.equal(await adminPanel.getByRole("textbox").count(), 0, "no field to edit");
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
    const name = `Omar ${uniqueWord()}`;
    await dialog.getByLabel("First name").fill("Omar");
    await dialog.getByLabel("Last name").fill(name.slice(5));
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
    const row = page.getByRole("row", { name: literally(email) });
    await row.getByText("Engineering · invited").waitFor();
    await row.getByText("Austin POP").waitFor();

    // Loaded afresh: one row for the address, and its panel holds the
    // level, the contact role and the site chosen.
    await page.goto("/portal/users");
    const stored = page.getByRole("row", { name: literally(email) });
    assert.equal(await stored.count(), 1);
    assert.equal(await stored.getByRole("link").innerText(), name);
    await stored.getByText("Engineering · invited").waitFor();
    await stored.getByText("Austin POP").waitFor();
    await stored.getByRole("link", { name }).click();
    const panel = page.getByRole("complementary", { name });
    assert.equal(await panel.getByLabel("Permission level").locator("option:checked").innerText(), "Engineering");
    const checked = await panel.locator("input[type=checkbox]:checked").evaluateAll((c) => c.map((x) => x.parentElement.innerText.trim()));
    assert.deepEqual(checked.sort(), ["Austin POP (Austin, US)", "Shipping"]);

    // The invitation waits in the outbox with its single-use link.
    const mail = await (await operator()).mail(email);
    assert.equal(mail.length, 1, "one email to the new address");
    assert.match(mail[0].body, /\/activate\?token=/);
    assert.deepEqual(browser.problems, []);
  } finally {
    await browser.close();
  }
});

test("engineering drains an appliance, edits its BGP and comments on a ticket", async () => {
  const started = Date.now() - 1000;
  // Known data: the appliance starts in service, even after a run that
  // stopped half-way.
  const op = await operator();
  const metro = op.partnerId("Metro Fiber");
  const appliance = (await op.get(`/api/v1/appliances?partner_id=${metro}`)).find((a) => a.serial === "OCA-AUS-0001");
  await op.delete(`/api/v1/appliances/${appliance.id}/drain`);
  let asn = 1000 + Math.floor(Math.random() * 59000);
  if (asn === 23456) asn += 1;
  const comment = `Optics replaced; loss is back to 0% (${unique()}).`;

  const browser = await openBrowser();
  const { page } = browser;
  const applianceRow = () => page.getByRole("row", { name: /OCA-AUS-0001/ });
  try {
    await signIn(page, "eli.engineer@metrofiber.example");
    await page.goto("/portal/appliances");
    await applianceRow().getByText("Serving").waitFor();
    await page.getByRole("button", { name: "Drain OCA-AUS-0001 for maintenance" }).click();
    await page.getByRole("status").filter({ hasText: "drained for maintenance" }).waitFor();
    await page.getByRole("button", { name: "Return OCA-AUS-0001 to service" }).waitFor();
    await page.goto("/portal/appliances");
    await applianceRow().getByText("Drained", { exact: true }).waitFor();
    await page.getByRole("button", { name: "Return OCA-AUS-0001 to service" }).waitFor();

    await page.getByRole("button", { name: "Edit the BGP configuration of OCA-AUS-0001" }).click();
    const dialog = page.getByRole("dialog", { name: "BGP configuration of OCA-AUS-0001" });
    await dialog.getByLabel("Peer AS number").fill("64496");
    await dialog.getByLabel("Neighbour IPv4 address").fill("198.51.100.7");
    await dialog.getByRole("button", { name: "Save BGP" }).click();
    await dialog.getByText(/usable AS number/).waitFor();
    await dialog.getByLabel("Peer AS number").fill(String(asn));
    await dialog.getByRole("button", { name: "Save BGP" }).click();
    await page.getByRole("status").filter({ hasText: "BGP configuration saved" }).waitFor();
    await page.goto("/portal/appliances");
    await applianceRow().getByText(`AS${asn}`).waitFor();
    await applianceRow().getByText("198.51.100.7").waitFor();

    // Back in service, so the appliance is as this flow found it.
    await page.getByRole("button", { name: "Return OCA-AUS-0001 to service" }).click();
    await page.getByRole("button", { name: "Drain OCA-AUS-0001 for maintenance" }).waitFor();
    await page.goto("/portal/appliances");
    await applianceRow().getByText("Serving").waitFor();

    await page.getByRole("link", { name: "Tickets" }).click();
    const ticket = () => page.getByRole("article", { name: "OCA-DEN-0002 reports high packet loss" });
    await ticket().getByLabel("Add a comment").fill(comment);
    await ticket().getByRole("button", { name: "Comment" }).click();
    await ticket().getByText(comment).waitFor();
    await page.goto("/portal/tickets");
    const stored = ticket().locator(".comments li").filter({ hasText: comment });
    assert.equal(await stored.count(), 1, "the comment is stored once");
    assert.equal(await stored.locator(".comment-meta strong").innerText(), "eli.engineer@metrofiber.example");
    await screenshot(page, "portal-tickets");

    // History: each change under Eli's name.
    const eli = (await op.get("/api/v1/users?q=eli.engineer@metrofiber.example"))[0];
    const history = (await op.history(eli.id)).filter((h) => Date.parse(h.at) >= started);
    for (const kind of ["appliance.drained", "appliance.bgp-changed", "appliance.undrained", "ticket.commented"]) {
      assert.ok(history.some((h) => h.action === kind), `${kind} is in History`);
    }
    assert.deepEqual(browser.problems, []);
  } finally {
    await browser.close();
  }
});
