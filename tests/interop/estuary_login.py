"""Walk Estuary's own login and consent pages by HTTP, as a person would,
and return the authorization code the out-of-band page shows.

Shared by the Mastodon client interop scripts (Mastodon.py, toot)."""

import html
import re
from html.parser import HTMLParser
from urllib.parse import urljoin

import requests


class _Forms(HTMLParser):
    """The forms of a page: action and the inputs' names and values."""

    def __init__(self):
        super().__init__()
        self.forms = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action", ""), "fields": {}})
        elif tag in ("input", "button") and self.forms and attrs.get("name"):
            if tag == "button" or attrs.get("type") == "hidden":
                self.forms[-1]["fields"].setdefault(attrs["name"], attrs.get("value", ""))


def _forms(page):
    parser = _Forms()
    parser.feed(page)
    return parser.forms


def authorization_code(authorize_url, username, password):
    """GET the authorize URL, POST the login form, allow on the consent
    page, read the code from the out-of-band page."""
    session = requests.Session()
    login = session.get(authorize_url, timeout=30)
    login.raise_for_status()
    form = _forms(login.text)[0]
    fields = dict(form["fields"])
    fields.update({"username": username, "password": password})
    consent = session.post(urljoin(login.url, form["action"]), data=fields, timeout=30)
    consent.raise_for_status()
    form = _forms(consent.text)[0]
    fields = dict(form["fields"])
    fields["decision"] = "allow"
    shown = session.post(urljoin(consent.url, form["action"]), data=fields, timeout=30)
    shown.raise_for_status()
    match = re.search(r"Your authorization code</h1>\s*<p>([^<]+)</p>", shown.text)
    if not match:
        raise RuntimeError("no code on the out-of-band page: " + shown.text[:500])
    return html.unescape(match.group(1)).strip()
