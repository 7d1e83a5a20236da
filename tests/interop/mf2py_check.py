#!/usr/bin/env python3
"""Parse an HTML page with mf2py, the reference microformats2 parser, and
print its result (items, rels, rel-urls) as JSON on stdout.

Usage: mf2py_check.py BASE_URL [FILE]

The page is read from FILE, or from standard input when FILE is absent or
"-". BASE_URL is the URL the page was fetched from: relative URLs resolve
against it (unless the page has a <base href>).
"""

import json
import sys

import mf2py


def main(argv):
    if len(argv) not in (2, 3):
        sys.stderr.write(__doc__)
        return 2
    base_url = argv[1]
    if len(argv) == 3 and argv[2] != "-":
        with open(argv[2], encoding="utf-8") as page:
            html = page.read()
    else:
        html = sys.stdin.read()
    parsed = mf2py.parse(doc=html, url=base_url)
    json.dump(parsed, sys.stdout, ensure_ascii=False, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
