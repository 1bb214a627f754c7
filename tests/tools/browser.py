#!/usr/bin/env python3
"""The user's browser, for credkit's interactive-grant tests, in plain HTTP.

    browser.py URL [--deny] [--tamper NAME=VALUE] [--user alice]

Starts at URL (the authorization URL credkit printed with --no-browser, or
a device flow's verification_uri_complete) and does what a user does with
oidc-provider's devInteractions pages: follows redirects (keeping cookies),
fills and submits each page's form (the login form: login and password; the
consent form; the device flow's user-code and confirmation forms), until a
page with no form: with a loopback redirect that is credkit's listener's
answer. Prints one JSON line: {"url": last URL, "status": ..., "body": ...}.

--deny   cancels instead: the interaction's abort link, or the device
         confirmation form's abort.
--tamper NAME=VALUE  changes a query parameter of URL before the first
         request (a browser or proxy that alters the request: a PKCE
         mismatch).
Only 127.0.0.1 is ever contacted.
"""
import argparse
import html.parser
import http.cookiejar
import json
import sys
import urllib.error
import urllib.parse
import urllib.request


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Forms(html.parser.HTMLParser):
    """The forms of a page, and the links to an interaction's abort."""

    def __init__(self):
        super().__init__()
        self.forms = []
        self.links = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "method": a.get("method", "get").lower(), "inputs": []})
        elif tag == "input" and self.forms:
            self.forms[-1]["inputs"].append((a.get("name"), a.get("type", "text"), a.get("value") or ""))
        elif tag == "a" and "href" in a:
            self.links.append(a["href"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--deny", action="store_true")
    ap.add_argument("--tamper", action="append", default=[])
    ap.add_argument("--user", default="alice")
    args = ap.parse_args()

    url = args.url
    for t in args.tamper:
        name, value = t.split("=", 1)
        u = urllib.parse.urlsplit(url)
        q = [(k, value if k == name else v) for k, v in urllib.parse.parse_qsl(u.query, keep_blank_values=True)]
        url = urllib.parse.urlunsplit(u._replace(query=urllib.parse.urlencode(q)))

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect())
    data = None
    aborted = False
    for _ in range(30):
        host = urllib.parse.urlsplit(url).hostname
        if host not in ("127.0.0.1", "localhost", "::1"):
            sys.exit(f"browser.py: refusing to go off loopback: {url}")
        req = urllib.request.Request(url, data=data)
        if data is not None:
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            resp = opener.open(req, timeout=30)
            status, headers, body = resp.status, resp.headers, resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            status, headers, body = e.code, e.headers, e.read().decode("utf-8", "replace")
        data = None
        loc = headers.get("Location")
        if 300 <= status < 400 and loc:
            url = urllib.parse.urljoin(url, loc)
            continue
        page = Forms()
        page.feed(body)
        aborts = [l for l in page.links if l.rstrip("/").endswith("/abort")]
        if args.deny and aborts and not aborted:
            url = urllib.parse.urljoin(url, aborts[0])
            aborted = True
            continue
        forms = [f for f in page.forms if f["method"] == "post"]
        if status >= 400 or not forms or aborted:
            print(json.dumps({"url": url, "status": status, "body": body[:2000]}))
            return
        form = forms[0]
        fields = []
        names = {n for n, _, _ in form["inputs"]}
        for name, typ, value in form["inputs"]:
            if not name:
                continue
            if name == "login":
                value = args.user
            elif name == "password":
                value = "any"
            elif name == "confirm" and args.deny:
                continue
            fields.append((name, value))
        if args.deny and "confirm" in names:
            fields.append(("abort", "yes"))
            aborted = True
        url = urllib.parse.urljoin(url, form["action"] or url)
        data = urllib.parse.urlencode(fields).encode()
    sys.exit("browser.py: too many steps")


if __name__ == "__main__":
    main()
