// Starship as an application's identity provider, driven the way an
// application would: openid-client (a certified relying-party library this
// project did not write) discovers the provider, sends a person through
// Chromium to sign in, exchanges the code with PKCE, verifies the ID token
// against the published keys, reads userinfo, refreshes, introspects,
// revokes, and signs the person out. The application is a small HTTP
// server of the test's own on a free loopback port, registered as a
// Backlot client through the operators' API.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { Issuer, generators, errors } from "openid-client";
import { BASE, openBrowser, operator, screenshot, unique } from "./support.js";

const MARA = "mara.master@sunrise.example";
let CALLBACK;
let registered;
let application;

before(async () => {
  application = createServer((_, response) => {
    response.writeHead(200, { "content-type": "text/html" });
    response.end("<!doctype html><title>Backlot</title><h1>Backlot</h1>");
  });
  await new Promise((resolve) => application.listen(0, "127.0.0.1", resolve));
  CALLBACK = `http://127.0.0.1:${application.address().port}/callback`;
  const op = await operator();
  registered = await op.post("/api/v1/clients", {
    application: "backlot",
    name: `Backlot e2e ${unique()}`,
    redirect_uris: [CALLBACK],
    grant_types: ["authorization_code", "refresh_token"],
  });
});

after(() => application.close());

test("an application signs a person in through Starship and out again", async () => {
  const issuer = await Issuer.discover(BASE);
  assert.equal(issuer.issuer, BASE);
  const client = new issuer.Client({
    client_id: registered.client_id,
    client_secret: registered.client_secret,
    redirect_uris: [CALLBACK],
    post_logout_redirect_uris: [CALLBACK],
    response_types: ["code"],
    token_endpoint_auth_method: "client_secret_basic",
  });
  const verifier = generators.codeVerifier();
  const state = generators.state();
  const nonce = generators.nonce();
  const url = client.authorizationUrl({
    scope: "openid profile email",
    code_challenge: generators.codeChallenge(verifier),
    code_challenge_method: "S256",
    state,
    nonce,
  });

  const browser = await openBrowser();
  const { page } = browser;
  try {
    await page.goto(url);
    await page.getByLabel("Email").fill(MARA);
    await page.getByLabel("Password").fill("starship-demo-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL((u) => u.href.startsWith(CALLBACK));
    await screenshot(page, "oidc-back-at-the-application");

    const params = client.callbackParams(page.url());
    const tokens = await client.callback(CALLBACK, params, { code_verifier: verifier, state, nonce });
    const claims = tokens.claims();
    assert.equal(claims.email, MARA);
    assert.equal(claims.partner.name, "Sunrise Studios");
    assert.ok(claims.roles.some((r) => r.role === "master-content-partner-operations"), JSON.stringify(claims));
    assert.ok(claims.capabilities.some((c) => c.capability === "create-users"));

    const info = await client.userinfo(tokens.access_token);
    assert.equal(info.sub, claims.sub);

    // Refresh: new tokens; the old refresh token is spent.
    const refreshed = await client.refresh(tokens.refresh_token);
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
    assert.equal(refreshed.claims().sub, claims.sub);
    assert.equal((await client.introspect(refreshed.access_token)).active, true);

    // Revoked by the application: its sign-in ends.
    await client.revoke(refreshed.refresh_token, "refresh_token");
    assert.equal((await client.introspect(refreshed.access_token)).active, false);
    await assert.rejects(client.refresh(refreshed.refresh_token), (e) => e instanceof errors.OPError && e.error === "invalid_grant");
    // Reusing the first one is refused too.
    await assert.rejects(client.refresh(tokens.refresh_token), (e) => e instanceof errors.OPError && e.error === "invalid_grant");

    // Sign out of Starship from the application, and back.
    await page.goto(client.endSessionUrl({ id_token_hint: tokens.id_token, post_logout_redirect_uri: CALLBACK, state: "bye" }));
    await page.waitForURL((u) => u.href.startsWith(CALLBACK));
    assert.equal(new URL(page.url()).searchParams.get("state"), "bye");
    await page.goto("/");
    await page.waitForURL((u) => u.pathname === "/sign-in");
  } finally {
    await browser.close();
  }
});

test("a person with no role in the application is sent back with access_denied", async () => {
  const issuer = await Issuer.discover(BASE);
  const client = new issuer.Client({
    client_id: registered.client_id,
    client_secret: registered.client_secret,
    redirect_uris: [CALLBACK],
    response_types: ["code"],
  });
  const verifier = generators.codeVerifier();
  const url = client.authorizationUrl({
    scope: "openid",
    code_challenge: generators.codeChallenge(verifier),
    code_challenge_method: "S256",
    state: "s1",
  });
  const browser = await openBrowser();
  const { page } = browser;
  try {
    await page.goto(url);
    // Rita reads the Partner Portal and holds nothing in Backlot.
    await page.getByLabel("Email").fill("rita.readonly@metrofiber.example");
    await page.getByLabel("Password").fill("starship-demo-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL((u) => u.href.startsWith(CALLBACK));
    const params = client.callbackParams(page.url());
    assert.equal(params.error, "access_denied");
    assert.equal(params.state, "s1");
    await assert.rejects(client.callback(CALLBACK, params, { code_verifier: verifier, state: "s1" }), (e) => e.error === "access_denied");
  } finally {
    await browser.close();
  }
});
