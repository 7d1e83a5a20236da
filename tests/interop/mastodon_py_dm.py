#!/usr/bin/env python3
"""Mastodon.py against two Estuary instances: sign in as a person would,
send a direct message from A to B, read it as a conversation on B, reply,
and see the reply on A; a third account on B sees the message nowhere.

Usage: mastodon_py_dm.py A_URL B_URL
A has alice, B has bob and carol; each password is "NAME pass".
Prints a JSON summary on stdout; exits non-zero on any failure."""

import json
import sys
import time
from urllib.parse import urlparse

from mastodon import Mastodon, MastodonNotFoundError

from estuary_login import authorization_code

SCOPES = ["read", "write", "follow", "push"]


def sign_in(base_url, name):
    client_id, client_secret = Mastodon.create_app(
        "Mastodon.py interop", scopes=SCOPES, api_base_url=base_url
    )
    api = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base_url)
    url = api.auth_request_url(scopes=SCOPES, allow_http=True)
    code = authorization_code(url, name, name + " pass")
    api.log_in(code=code, scopes=SCOPES, allow_http=True)
    return api


def poll(what, fetch, done, seconds=20):
    deadline = time.time() + seconds
    while True:
        value = fetch()
        if done(value):
            return value
        if time.time() > deadline:
            raise AssertionError("timed out waiting for " + what + ": " + repr(value))
        time.sleep(0.2)


def main(a_url, b_url):
    a_host, b_host = urlparse(a_url).netloc, urlparse(b_url).netloc
    alice, bob, carol = sign_in(a_url, "alice"), sign_in(b_url, "bob"), sign_in(b_url, "carol")
    me = alice.account_verify_credentials()
    assert me.username == "alice", me

    found = alice.search_v2("@bob@" + b_host, resolve=True, result_type="accounts")
    assert found.accounts and found.accounts[0].acct == "bob@" + b_host, found

    sent = alice.status_post("@bob@%s the river is high" % b_host, visibility="direct")
    assert sent.visibility == "direct", sent

    conversations = poll("bob's conversation", bob.conversations, lambda c: len(c) == 1)
    received = conversations[0].last_status
    assert received.uri == sent.uri, received
    assert conversations[0].unread, conversations[0]
    assert [a.acct for a in conversations[0].accounts] == ["alice@" + a_host]

    reply = bob.status_post(
        "@alice@%s then we stay home" % a_host,
        in_reply_to_id=received.id,
        visibility="direct",
    )
    assert reply.in_reply_to_id == received.id, reply

    alice_conversations = poll(
        "alice's conversation to show the reply",
        alice.conversations,
        lambda c: len(c) == 1 and c[0].last_status.uri == reply.uri,
    )
    context = alice.status_context(sent.id)
    assert [s.uri for s in context.descendants] == [reply.uri], context

    # carol, on B beside bob, sees the message nowhere.
    assert carol.conversations() == [], "carol's conversations"
    assert carol.notifications() == [], "carol's notifications"
    assert carol.timeline_home() == [], "carol's home"
    assert all(s.uri != sent.uri for s in carol.timeline_public()), "carol's public timeline"
    try:
        carol.status(received.id)
        raise AssertionError("carol could read the direct message")
    except MastodonNotFoundError:
        pass

    print(json.dumps({
        "sent": sent.uri,
        "received_by_bob": received.uri,
        "reply": reply.uri,
        "alice_conversation_last": alice_conversations[0].last_status.uri,
        "context_descendants": [s.uri for s in context.descendants],
        "carol_saw": 0,
    }))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.stderr.write(__doc__)
        sys.exit(2)
    main(sys.argv[1], sys.argv[2])
