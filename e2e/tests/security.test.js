// Two-step sign-in (PRODUCT.md: sign-in supports MFA): a user sets it up
// with an authenticator app, keeps the recovery codes, and is then asked
// for a code when signing in. The user is a new person of this run, who
// activates their account from the welcome email's link first.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { openBrowser, signIn, signOut, screenshot, step, unique, uniqueWord, operator } from "./support.js";

/** What an authenticator app shows for a base32 key (RFC 6238, SHA-1, 30 s). */
function totp(base32Key, atSeconds = Date.now() / 1000) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of base32Key.replace(/=+$/, "")) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(atSeconds / 30)));
  const mac = createHmac("sha1", key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

test("a user sets up two-step sign-in and is then asked for a code", async () => {
  const op = await operator();
  const name = `Pat ${uniqueWord()}`;
  const email = `pat.${unique()}@sunrise.example`;
  const person = await op.person("Sunrise Studios", { email, first: "Pat", last: name.slice(4) });
  const password = `correct horse ${unique()}`;
  const browser = await openBrowser();
  const { page } = browser;
  const kinds = async () => (await op.history(person.id)).map((h) => h.action);
  try {
    await page.goto(await op.link(email, "welcome"));
    await page.getByLabel("New password").fill(password);
    await page.getByLabel("Repeat the password").fill(password);
    await page.getByRole("button", { name: "Activate account" }).click();
    await page.getByRole("heading", { name: "Your account is active" }).waitFor();

    await signIn(page, email, password);
    await page.getByRole("heading", { name, level: 1 }).waitFor();
    await page.getByRole("link", { name: "Two-step sign-in" }).click();
    await page.getByRole("button", { name: "Set up two-step sign-in" }).click();
    const keyLabel = await page.locator(".secret").getAttribute("aria-label");
    const key = keyLabel.replace(/^Key /, "");
    // A QR code of the key, drawn on the server: an inline SVG, no script.
    const qr = page.getByRole("img", { name: "QR code of the key for your authenticator app" });
    await qr.locator("svg path").waitFor();
    const box = await qr.locator("svg").boundingBox();
    assert.ok(box.width >= 150 && box.height >= 150, `the QR code is ${box.width}x${box.height}`);
    const scripts = await page.locator("script[src]").evaluateAll((s) => s.map((e) => new URL(e.src).origin));
    assert.ok(scripts.every((origin) => origin === new URL(page.url()).origin), `only our own script: ${scripts}`);
    await screenshot(page, "security-enrolling-qr");

    const enrolledWith = totp(key);
    await page.getByLabel("Code from the app").fill(enrolledWith);
    await page.getByRole("button", { name: "Turn on two-step sign-in" }).click();
    await page.getByText("Two-step sign-in is on.").waitFor();
    const codes = await page.locator(".recovery-codes code").allInnerTexts();
    assert.equal(codes.length, 10, "ten recovery codes");
    await screenshot(page, "security-recovery-codes");
    // Loaded afresh, the page says it is on.
    await page.goto("/security");
    await page.getByRole("button", { name: "Turn off two-step sign-in" }).waitFor();
    assert.equal(await page.getByRole("button", { name: "Set up two-step sign-in" }).count(), 0);
    assert.ok((await kinds()).includes("mfa.enrolled"), "History records the enrolment");

    // Signing in again: email, password and the code in one form, once.
    await signOut(page);
    const code = totp(key, Date.now() / 1000 + 30);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(password);
    await page.getByLabel("Authenticator code").fill(code);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name, level: 1 }).waitFor();

    // The same code again, within its window: the page says it was used.
    await signOut(page);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(password);
    await page.getByLabel("Authenticator code").fill(code);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator("#totp-error").filter({ hasText: "This code was used already" }).waitFor();
    assert.equal(await page.getByLabel("Authenticator code").getAttribute("aria-invalid"), "true");
    await screenshot(page, "sign-in-code-used");

    // Leaving the code out asks for the code alone: the right password is
    // not typed twice (nor sent back to the page), and a recovery code does.
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(password);
    await page.getByLabel("Authenticator code").fill("");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText(`Password accepted for ${email}`).waitFor();
    assert.equal(await page.getByLabel("Password").count(), 0, "no password asked again");
    assert.ok(!(await page.content()).includes(password), "the password is not on the page");
    assert.equal(await page.evaluate(() => document.activeElement.id), "totp", "the code field has focus");
    await screenshot(page, "sign-in-code-alone");
    await page.getByLabel("Authenticator code").fill(codes[0]);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name, level: 1 }).waitFor();

    // Turning it off takes a code too: here the next recovery code.
    await page.getByRole("link", { name: "Two-step sign-in" }).click();
    await page.getByLabel("Code from the app, or a recovery code").fill(codes[1]);
    await page.getByRole("button", { name: "Turn off two-step sign-in" }).click();
    await page.getByText("Two-step sign-in is off.").waitFor();
    // Loaded afresh it is off, and the password alone signs in again.
    await page.goto("/security");
    await page.getByRole("button", { name: "Set up two-step sign-in" }).waitFor();
    await signOut(page);
    await signIn(page, email, password);
    await page.getByRole("heading", { name, level: 1 }).waitFor();
    const history = await op.history(person.id);
    assert.equal(history.find((h) => h.action === "mfa.disabled")?.actor, email, "History records who turned it off");
    assert.deepEqual(browser.problems, []);
  } finally {
    await browser.close();
  }
});
