#!/usr/bin/env node
// masto.js against two Estuary instances: an app registered with
// /api/v1/apps, Estuary's own login and consent pages walked by HTTP, the
// code from the out-of-band page exchanged by masto's OAuth client
// (multipart); a direct message from A to B read as a conversation,
// answered, seen in the thread; carol on B sees it nowhere.
//
// Usage: node masto_dm.mjs A_URL B_URL   (prints a JSON summary)

import { createOAuthAPIClient, createRestAPIClient } from "masto";

const OOB = "urn:ietf:wg:oauth:2.0:oob";
const SCOPES = "read write follow push";

function hiddenFields(html) {
  const fields = {};
  for (const match of html.matchAll(/<(input|button)\b[^>]*>/g)) {
    const tag = match[0];
    const name = /name="([^"]*)"/.exec(tag)?.[1];
    const value = /value="([^"]*)"/.exec(tag)?.[1] ?? "";
    const hidden = match[1] === "button" || /type="hidden"/.test(tag);
    if (name && hidden && !(name in fields)) fields[name] = value;
  }
  return fields;
}

function formAction(html, base) {
  return new URL(/<form[^>]*action="([^"]*)"/.exec(html)[1], base).toString();
}

async function authorizationCode(authorizeUrl, name) {
  const login = await fetch(authorizeUrl);
  if (!login.ok) throw new Error(`login page: ${login.status}`);
  const loginHtml = await login.text();
  const fields = { ...hiddenFields(loginHtml), username: name, password: `${name} pass` };
  const consent = await fetch(formAction(loginHtml, authorizeUrl), {
    method: "POST",
    body: new URLSearchParams(fields),
  });
  if (!consent.ok) throw new Error(`consent page: ${consent.status}`);
  const consentHtml = await consent.text();
  const decision = { ...hiddenFields(consentHtml), decision: "allow" };
  const shown = await fetch(formAction(consentHtml, authorizeUrl), {
    method: "POST",
    body: new URLSearchParams(decision),
  });
  const page = await shown.text();
  const code = /Your authorization code<\/h1>\s*<p>([^<]+)<\/p>/.exec(page)?.[1];
  if (!code) throw new Error(`no code on the out-of-band page: ${page.slice(0, 300)}`);
  return code.trim();
}

async function signIn(url, name) {
  const anonymous = createRestAPIClient({ url });
  const app = await anonymous.v1.apps.create({
    clientName: "masto.js interop",
    redirectUris: OOB,
    scopes: SCOPES,
  });
  const authorize = new URL("/oauth/authorize", url);
  authorize.search = new URLSearchParams({
    response_type: "code",
    client_id: app.clientId,
    redirect_uri: OOB,
    scope: SCOPES,
  }).toString();
  const code = await authorizationCode(authorize.toString(), name);
  const oauth = createOAuthAPIClient({ url });
  const token = await oauth.token.create({
    grantType: "authorization_code",
    clientId: app.clientId,
    clientSecret: app.clientSecret,
    redirectUri: OOB,
    code,
    scope: SCOPES,
  });
  for (const scope of SCOPES.split(" ")) {
    if (!token.scope.split(" ").includes(scope)) throw new Error(`scope ${scope} not granted`);
  }
  return createRestAPIClient({ url, accessToken: token.accessToken });
}

async function poll(what, fetchValue, done, seconds = 20) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await fetchValue();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

async function main([aUrl, bUrl]) {
  const aHost = new URL(aUrl).host;
  const bHost = new URL(bUrl).host;
  const alice = await signIn(aUrl, "alice");
  const bob = await signIn(bUrl, "bob");
  const carol = await signIn(bUrl, "carol");

  const me = await alice.v1.accounts.verifyCredentials();
  assert(me.username === "alice", "alice's account");
  const found = await alice.v2.search.list({ q: `@bob@${bHost}`, resolve: true, type: "accounts" });
  assert(found.accounts[0]?.acct === `bob@${bHost}`, "bob found by WebFinger");

  const sent = await alice.v1.statuses.create({
    status: `@bob@${bHost} the river is high`,
    visibility: "direct",
  });
  assert(sent.visibility === "direct", "direct");

  const conversations = await poll("bob's conversation", () => bob.v1.conversations.list(), (c) => c.length === 1);
  const received = conversations[0].lastStatus;
  assert(received.uri === sent.uri, "bob received it");
  assert(conversations[0].unread === true, "unread");

  const reply = await bob.v1.statuses.create({
    status: `@alice@${aHost} then we stay home`,
    visibility: "direct",
    inReplyToId: received.id,
  });
  const aliceConversations = await poll(
    "alice's conversation to show the reply",
    () => alice.v1.conversations.list(),
    (c) => c.length === 1 && c[0].lastStatus?.uri === reply.uri,
  );
  const context = await alice.v1.statuses.$select(sent.id).context.fetch();

  assert((await carol.v1.conversations.list()).length === 0, "carol's conversations");
  assert((await carol.v1.notifications.list()).length === 0, "carol's notifications");
  assert((await carol.v1.timelines.home.list()).length === 0, "carol's home");
  let hidden = false;
  try {
    await carol.v1.statuses.$select(received.id).fetch();
  } catch (error) {
    hidden = error.statusCode === 404;
  }
  assert(hidden, "the status is a 404 for carol");

  console.log(JSON.stringify({
    sent: sent.uri,
    received_by_bob: received.uri,
    reply: reply.uri,
    alice_conversation_last: aliceConversations[0].lastStatus.uri,
    context_descendants: context.descendants.map((s) => s.uri),
    carol_saw: 0,
  }));
}

main(process.argv.slice(2)).catch((error) => {
  console.error(error);
  process.exit(1);
});
