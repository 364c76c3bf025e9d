#!/usr/bin/env python3
"""Seeds a running Portcullis over HTTP the way a person and an app would, and prints JSON with
everything the load scenarios need.

    seed.py all BASE_URL CLIENT_ID CLIENT_SECRET EMAIL PASSWORD REDIRECT_URI [OPAQUE_ID OPAQUE_SECRET] > seed.json
    seed.py refresh BASE_URL seed.json N > tokens.txt     N fresh refresh tokens, one a line

Takes the admin password from argv (the server is throwaway, on a temp database). Standard
library only, one keep-alive connection, redirects never followed: the 303s are the answers.
"""
import base64
import hashlib
import http.client
import json
import re
import secrets
import sys
import urllib.parse


class Browser:
    """A cookie-keeping HTTP/1.1 client for one loopback origin."""

    def __init__(self, base_url, cookies=None):
        u = urllib.parse.urlsplit(base_url)
        if u.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise SystemExit(f"refusing non-loopback target {u.hostname}")
        self.host, self.port = u.hostname, u.port or 80
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        self.cookies = dict(cookies or {})

    def request(self, method, path, body=None, headers=None, cookies=True):
        h = dict(headers or {})
        if cookies and self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if isinstance(body, dict):
            body = urllib.parse.urlencode(body)
            h.setdefault("Content-Type", "application/x-www-form-urlencoded")
        for attempt in (1, 2):  # the server may close an idle keep-alive connection
            try:
                self.conn.request(method, path, body=body, headers=h)
                res = self.conn.getresponse()
                data = res.read().decode("utf-8", "replace")
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
                if attempt == 2:
                    raise
        for name, value in res.getheaders():
            if name.lower() == "set-cookie":
                pair = value.split(";", 1)[0]
                k, _, v = pair.partition("=")
                self.cookies[k.strip()] = v.strip()
        return res.status, {k.lower(): v for k, v in res.getheaders()}, data

    def expect(self, want, method, path, **kw):
        status, headers, data = self.request(method, path, **kw)
        if status != want:
            raise SystemExit(f"{method} {path}: expected {want}, got {status}: {data[:300]}")
        return headers, data


def csrf_of(html):
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    if not m:
        raise SystemExit("no CSRF field on the page")
    return m.group(1)


def revealed(html):
    m = re.search(r'class="secret" id="revealed-secret">([^<]+)<', html)
    if not m:
        raise SystemExit("no revealed secret on the page")
    return m.group(1).strip()


def pkce():
    """RFC 7636 S256 pair; the verifier is 64 unreserved characters."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_path(client_id, redirect_uri, challenge, state):
    q = urllib.parse.urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
        "scope": "read write", "state": state,
        "code_challenge": challenge, "code_challenge_method": "S256",
    })
    return f"/oauth/authorize?{q}"


def code_from(location):
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
    if "code" not in q:
        raise SystemExit(f"no code in redirect: {location}")
    return q["code"]


def basic(client_id, secret):
    raw = f"{urllib.parse.quote(client_id, safe='')}:{urllib.parse.quote(secret, safe='')}"
    return "Basic " + base64.b64encode(raw.encode()).decode()


def exchange(b, auth, code, verifier, redirect_uri):
    _, data = b.expect(200, "POST", "/oauth/token", cookies=False, headers={"Authorization": auth},
                       body={"grant_type": "authorization_code", "code": code,
                             "redirect_uri": redirect_uri, "code_verifier": verifier})
    return json.loads(data)


def fresh_code(b, client_id, redirect_uri, state):
    """A code from remembered consent (303 straight back), with its PKCE verifier."""
    verifier, challenge = pkce()
    headers, _ = b.expect(303, "GET", authorize_path(client_id, redirect_uri, challenge, state))
    return code_from(headers["location"]), verifier


def is_jwt(token):
    return token.count(".") == 2


def approve(b, client_id, redirect_uri, auth):
    """The first authorization of a client shows the consent page; approving it once is
    remembered, so every later GET /oauth/authorize answers 303 with a code (what the mint step
    and the browser flow rely on). Returns the tokens of the code exchange."""
    verifier, challenge = pkce()
    path = authorize_path(client_id, redirect_uri, challenge, "seed")
    _, page = b.expect(200, "GET", path)
    headers, _ = b.expect(303, "POST", path, body={"csrf_token": csrf_of(page), "decision": "allow"})
    tokens = exchange(b, auth, code_from(headers["location"]), verifier, redirect_uri)
    code, verifier = fresh_code(b, client_id, redirect_uri, "check")  # consent is remembered
    exchange(b, auth, code, verifier, redirect_uri)
    return tokens


def client_credentials(b, auth):
    _, data = b.expect(200, "POST", "/oauth/token", cookies=False, headers={"Authorization": auth},
                       body={"grant_type": "client_credentials", "scope": "read write"})
    return json.loads(data)["access_token"]


def opaque(b, client_id, secret, redirect_uri):
    """The opaque-token client's figures: a client-credentials token and, from a code exchange
    on the same signed-in session, a user's access token. Either must be opaque: a JWT here
    would make the opaque scenarios measure JWTs under another name."""
    auth = basic(client_id, secret)
    cc = client_credentials(b, auth)
    if is_jwt(cc):
        raise SystemExit("the client created with --token-format opaque was issued a JWT")
    out = {"opaque_client_id": client_id, "opaque_basic": auth, "opaque_cc_access_token": cc}
    try:
        user = approve(b, client_id, redirect_uri, auth)["access_token"]
    except SystemExit as e:  # the scenario that needs it is skipped with this reason
        out["opaque_user_error"] = f"no opaque access token from a code exchange ({e})"
        return out
    if is_jwt(user):
        raise SystemExit("the code exchange of the opaque client returned a JWT")
    out["opaque_user_access_token"] = user
    return out


def refresh_tokens(base, seed_file, n):
    """Refresh tokens for the rotation scenario, each from its own code, so each starts a family;
    the load script then chains them (every response's new token replaces the spent one)."""
    s = json.load(open(seed_file))
    b = Browser(base, s["cookies"])
    for i in range(int(n)):
        code, verifier = fresh_code(b, s["client_id"], s["redirect_uri"], f"r{i}")
        print(exchange(b, s["basic"], code, verifier, s["redirect_uri"])["refresh_token"])


def seed(base, client_id, client_secret, email, password, redirect_uri, opaque_id=None, opaque_secret=None):
    auth = basic(client_id, client_secret)
    b = Browser(base)

    # Sign in: the sign-in page sets the session cookie that carries the CSRF token.
    _, page = b.expect(200, "GET", "/signin")
    b.expect(303, "POST", "/signin", body={"csrf_token": csrf_of(page), "email": email,
                                           "password": password, "return_to": ""})

    user_tokens = approve(b, client_id, redirect_uri, auth)
    extra = opaque(b, opaque_id, opaque_secret, redirect_uri) if opaque_id else {}

    # Session token (Settings -> Credentials), then an API key and the personal token with it.
    _, page = b.expect(200, "GET", "/settings/credentials")
    # The form answers 303 to the one-time reveal page, which shows the token once.
    b.expect(303, "POST", "/settings/credentials/session-token", body={"csrf_token": csrf_of(page)})
    _, page = b.expect(200, "GET", "/settings/reveal")
    session_token = revealed(page)
    bearer = {"Authorization": f"Bearer {session_token}", "Content-Type": "application/json"}
    _, data = b.expect(201, "POST", "/api/v1/active/api-keys", cookies=False, headers=bearer,
                       body=json.dumps({"name": "bench", "permissions": ["read"], "environment": "live"}))
    api_key = json.loads(data)["key"]
    _, data = b.expect(201, "POST", "/api/v1/active/personal-token", cookies=False, headers=bearer)
    personal_token = json.loads(data)["token"]

    cc_token = client_credentials(b, auth)

    json.dump({
        "cookies": b.cookies, "cookie": "; ".join(f"{k}={v}" for k, v in b.cookies.items()),
        "basic": auth, "redirect_uri": redirect_uri, "client_id": client_id,
        "user_access_token": user_tokens["access_token"], "cc_access_token": cc_token,
        "session_token": session_token, "api_key": api_key, "personal_token": personal_token, **extra,
    }, sys.stdout)


if __name__ == "__main__":
    if sys.argv[1:2] == ["all"]:
        seed(*sys.argv[2:10])
    elif sys.argv[1:2] == ["refresh"]:
        refresh_tokens(*sys.argv[2:5])
    else:
        sys.exit(__doc__)
