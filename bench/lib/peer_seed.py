#!/usr/bin/env python3
"""Signs in to the peer (node-oidc-provider with dev interactions) the way a browser would and
leaves consent remembered, so that every later authorization request answers a redirect with a
code: the starting point of the browser-flow scenario, as `seed.py` is for Portcullis.

    peer_seed.py AUTHORIZE_URL TOKEN_URL CLIENT_ID CLIENT_SECRET REDIRECT_URI SCOPE > peer.json

Prints JSON: `cookie` (the Cookie header a browser sends to the authorization endpoint) and
`basic` (the client's Authorization header). Dev interactions accept any login and password.
Standard library only; redirects are never followed automatically, each one is checked.
"""
import base64
import http.cookiejar
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

sys.dont_write_bytecode = True
from seed import basic, code_from, pkce  # noqa: E402  (same directory)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # the 3xx comes back as an HTTPError and is read as an answer


class Browser:
    """Cookie jar with paths and expiry (the peer scopes its interaction cookies by path)."""

    def __init__(self, base):
        host = urllib.parse.urlsplit(base).hostname
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise SystemExit(f"refusing non-loopback target {host}")
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)

    def go(self, method, url, body=None, headers=None):
        data = urllib.parse.urlencode(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
        try:
            with self.opener.open(req, timeout=30) as res:
                return res.status, res.headers, res.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read().decode("utf-8", "replace")

    def redirect(self, method, url, body=None):
        status, headers, page = self.go(method, url, body)
        if status not in (302, 303) or not headers.get("location"):
            raise SystemExit(f"{method} {url}: expected a redirect, got {status}: {page[:300]}")
        return urllib.parse.urljoin(url, headers["location"])

    def cookie_header(self, url):
        req = urllib.request.Request(url)
        self.jar.add_cookie_header(req)
        return req.get_header("Cookie") or ""


def authorize_url(endpoint, client_id, redirect_uri, scope, challenge, state):
    return endpoint + "?" + urllib.parse.urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
        "scope": scope, "state": state, "code_challenge": challenge, "code_challenge_method": "S256",
    })


def form_action(page, url):
    m = re.search(r'<form[^>]*action="([^"]+)"', page)
    if not m:
        raise SystemExit(f"no form on the interaction page {url}")
    return urllib.parse.urljoin(url, m.group(1))


def exchange(b, token_url, auth, code, verifier, redirect_uri):
    status, _, page = b.go("POST", token_url, headers={"Authorization": auth}, body={
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
        "code_verifier": verifier})
    if status != 200 or "access_token" not in json.loads(page):
        raise SystemExit(f"peer code exchange: {status}: {page[:300]}")


def main(authz, token_url, client_id, secret, redirect_uri, scope):
    b = Browser(authz)
    auth = basic(client_id, secret)
    verifier, challenge = pkce()
    url = b.redirect("GET", authorize_url(authz, client_id, redirect_uri, scope, challenge, "seed"))
    # Each prompt (login, then consent) is one interaction page; submitting it resumes the
    # authorization, which redirects to the next prompt or, after the last, to the client.
    for prompt, fields in (("login", {"login": "bench", "password": "bench"}), ("consent", {})):
        if url.startswith(redirect_uri):
            raise SystemExit(f"the peer skipped its {prompt} prompt: {url}")
        status, _, page = b.go("GET", url)
        if status != 200 or f'value="{prompt}"' not in page:
            raise SystemExit(f"expected the peer's {prompt} page at {url}, got {status}: {page[:300]}")
        url = b.redirect("GET", b.redirect("POST", form_action(page, url), {"prompt": prompt, **fields}))
    exchange(b, token_url, auth, code_from(url), verifier, redirect_uri)

    # Consent is remembered: the next authorization goes straight back with a code.
    verifier, challenge = pkce()
    url = b.redirect("GET", authorize_url(authz, client_id, redirect_uri, scope, challenge, "check"))
    if not url.startswith(redirect_uri):
        raise SystemExit(f"the peer still asks for an interaction after consent: {url}")
    exchange(b, token_url, auth, code_from(url), verifier, redirect_uri)
    json.dump({"cookie": b.cookie_header(authz), "basic": auth}, sys.stdout)


if __name__ == "__main__":
    if len(sys.argv) != 7:
        sys.exit(__doc__)
    main(*sys.argv[1:])
