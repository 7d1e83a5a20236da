#!/usr/bin/env python3
"""The `toot` CLI against two Estuary instances: `toot login` (the code
read from Estuary's out-of-band page after walking its login and consent
pages), `toot post --visibility direct` from A reaches bob on B, bob answers
with `--reply-to`, alice sees the answer in her thread; carol on B sees the
message nowhere.

Usage: toot_dm.py A_URL B_URL
A has alice, B has bob and carol; each password is "NAME pass".
Prints a JSON summary on stdout; exits non-zero on any failure."""

import json
import os
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlparse

from estuary_login import authorization_code


class Toot:
    """One person's `toot`, with its own configuration directory."""

    def __init__(self, name):
        self.name = name
        self.env = dict(os.environ, XDG_CONFIG_HOME=tempfile.mkdtemp(prefix="toot-" + name))

    def login(self, base_url):
        child = subprocess.Popen(
            ["toot", "login", "--instance", base_url],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=self.env, text=True,
        )
        url = None
        while url is None:
            line = child.stdout.readline()
            if not line:
                raise AssertionError("toot login printed no URL: " + child.stderr.read())
            if "/oauth/authorize" in line:
                url = line.strip()
        code = authorization_code(url, self.name, self.name + " pass")
        out, err = child.communicate("n\n" + code + "\n", timeout=60)
        if child.returncode != 0 or "Successfully logged in" not in out:
            raise AssertionError("toot login failed: " + out + err)

    def run(self, *args, check=True):
        done = subprocess.run(["toot", *args], env=self.env, text=True,
                              capture_output=True, timeout=60)
        if check and done.returncode != 0:
            raise AssertionError("toot %s failed: %s%s" % (" ".join(args), done.stdout, done.stderr))
        return done

    def json(self, *args):
        return json.loads(self.run(*args, "--json").stdout)


def poll(what, fetch, done, seconds=20):
    deadline = time.time() + seconds
    while True:
        value = fetch()
        if done(value):
            return value
        if time.time() > deadline:
            raise AssertionError("timed out waiting for " + what + ": " + repr(value))
        time.sleep(0.3)


def main(a_url, b_url):
    a_host, b_host = urlparse(a_url).netloc, urlparse(b_url).netloc
    alice, bob, carol = Toot("alice"), Toot("bob"), Toot("carol")
    alice.login(a_url)
    bob.login(b_url)
    carol.login(b_url)

    sent = alice.json("post", "--visibility", "direct", "@bob@%s the river is high" % b_host)
    assert sent["visibility"] == "direct", sent

    mentions = poll("bob's mention", lambda: bob.json("notifications", "--mentions"),
                    lambda n: len(n) == 1)
    received = mentions[0]["status"]
    assert received["uri"] == sent["uri"], received
    assert received["visibility"] == "direct"

    reply = bob.json("post", "--visibility", "direct", "--reply-to", received["id"],
                     "@alice@%s then we stay home" % a_host)
    assert reply["in_reply_to_id"] == received["id"], reply

    alice_mentions = poll("alice's mention", lambda: alice.json("notifications", "--mentions"),
                          lambda n: len(n) == 1)
    thread = alice.json("thread", sent["id"])
    descendants = [s["uri"] for s in thread.get("descendants", [])]

    # carol sees it nowhere, and the status is not found for her.
    assert carol.json("notifications") == [], "carol's notifications"
    assert carol.run("status", received["id"], check=False).returncode != 0

    print(json.dumps({
        "sent": sent["uri"],
        "received_by_bob": received["uri"],
        "reply": reply["uri"],
        "alice_conversation_last": alice_mentions[0]["status"]["uri"],
        "context_descendants": descendants,
        "carol_saw": 0,
    }))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.stderr.write(__doc__)
        sys.exit(2)
    main(sys.argv[1], sys.argv[2])
