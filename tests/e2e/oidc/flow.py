#!/usr/bin/env python3
"""Drive the OIDC authorization-code + PKCE flow with plain HTTP (stdlib only).

Redirects are followed by hand, one hop at a time, with one cookie jar for
everything (cookies are not port-isolated, so the relying party and the
provider on 127.0.0.1 share it, exactly as a browser or reqwest's cookie
store would). HTML forms of the provider's login and consent pages are
parsed and submitted.

Modes (see README.md):
  * relying-party mode: --authorize-url http://127.0.0.1:5001/auth/login
      follows RP -> provider -> login -> consent -> RP callback -> ... until a
      non-redirect response; prints {"status", "url", "rp_cookies", ...}.
  * provider-only mode: --authorize-url <provider>/auth?... (or --issuer to
      have this script build that URL with a fresh PKCE pair) together with
      --stop-at-redirect-uri URI: stops at the redirect to URI and prints the
      code; with --exchange it then redeems the code at the token endpoint
      (and with --refresh also runs a refresh_token grant).

Output: one JSON document on stdout. Exit status 0 on success, 1 otherwise.
"""

import argparse
import base64
import hashlib
import html.parser
import http.cookiejar
import json
import secrets
import sys
import urllib.error
import urllib.parse
import urllib.request


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class FormParser(html.parser.HTMLParser):
    """Collects <form action method> and the <input name value> inside them."""

    def __init__(self):
        super().__init__()
        self.forms = []
        self._cur = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._cur = {"action": a.get("action", ""), "method": (a.get("method") or "get").lower(), "inputs": []}
            self.forms.append(self._cur)
        elif tag in ("input", "button") and self._cur is not None and a.get("name"):
            self._cur["inputs"].append((a["name"], a.get("value") or "", (a.get("type") or "text").lower()))

    def handle_endtag(self, tag):
        if tag == "form":
            self._cur = None


def origin(url):
    u = urllib.parse.urlsplit(url)
    return f"{u.scheme}://{u.netloc}"


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def decode_jwt(tok):
    try:
        h, p, *_ = tok.split(".")
        pad = lambda s: s + "=" * (-len(s) % 4)
        return {"header": json.loads(base64.urlsafe_b64decode(pad(h))),
                "payload": json.loads(base64.urlsafe_b64decode(pad(p)))}
    except Exception:  # noqa: BLE001 - opaque token
        return None


class Client:
    def __init__(self, verbose=False, timeout=10):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect())
        self.verbose = verbose
        self.timeout = timeout
        self.hops = []

    def request(self, method, url, data=None, headers=None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
        if body is not None:
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            resp = self.opener.open(req, timeout=self.timeout)
        except urllib.error.HTTPError as e:  # 3xx/4xx/5xx all land here without a redirect handler
            resp = e
        status = resp.status if hasattr(resp, "status") else resp.code
        text = resp.read().decode("utf-8", "replace")
        hdrs = resp.headers
        self.hops.append({"method": method, "url": url, "status": status,
                          **({"location": hdrs.get("Location")} if hdrs.get("Location") else {})})
        if self.verbose:
            print(f"{method} {url} -> {status} {hdrs.get('Location') or ''}", file=sys.stderr)
            for c in hdrs.get_all("Set-Cookie") or []:
                print(f"    set-cookie: {c.split(';')[0][:60]}...", file=sys.stderr)
        return status, hdrs, text


def fail(msg, client=None, **extra):
    out = {"error": msg, **extra}
    if client is not None:
        out["hops"] = client.hops
    print(json.dumps(out, indent=2))
    sys.exit(1)


def run_flow(args, client, authorize_url):
    """Follow redirects and submit forms; returns (status, url, text, rp_cookies, stop_params)."""
    rp_origin = origin(authorize_url)
    rp_cookies = {}
    method, url, data = "GET", authorize_url, None
    for _ in range(args.max_hops):
        status, hdrs, text = client.request(method, url, data)
        if origin(url) == rp_origin and not args.stop_at_redirect_uri:
            for c in hdrs.get_all("Set-Cookie") or []:
                name, _, rest = c.partition("=")
                rp_cookies[name.strip()] = {"value": rest.split(";")[0], "attributes": c}
        if status in (301, 302, 303, 307, 308):
            loc = urllib.parse.urljoin(url, hdrs["Location"])
            if args.stop_at_redirect_uri and loc.split("?")[0].split("#")[0] == args.stop_at_redirect_uri:
                return status, loc, text, rp_cookies, urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query)
            if status not in (307, 308):  # 307/308 keep method and body
                method, data = "GET", None
            url = loc
            continue
        if status == 200 and "<form" in text:
            p = FormParser()
            p.feed(text)
            # the provider pages carry a hidden prompt=login|consent input
            form = next((f for f in p.forms if any(n == "prompt" for n, _, _ in f["inputs"])), None)
            if form is None and len(p.forms) == 1 and "forms[0].submit()" in text:
                # self-submitting page (e.g. the provider's "end the previous
                # session" form when another user logs in with the same jar)
                form = p.forms[0]
            if form is not None:
                fields = {n: v for n, v, t in form["inputs"] if t not in ("submit", "button")}
                if fields.get("prompt") == "login":
                    fields["login"] = args.user
                    fields["password"] = args.password
                method = form["method"].upper()
                url = urllib.parse.urljoin(url, form["action"])
                data = fields
                continue
        return status, url, text, rp_cookies, None
    fail("too many hops", client)


def token_request(args, client, token_url, params):
    headers = {"Accept": "application/json"}
    params = dict(params)
    if args.auth_method == "basic":
        cred = f"{urllib.parse.quote(args.client_id, safe='')}:{urllib.parse.quote(args.client_secret, safe='')}"
        headers["Authorization"] = "Basic " + base64.b64encode(cred.encode()).decode()
    else:
        params["client_id"] = args.client_id
        params["client_secret"] = args.client_secret
    status, _, text = client.request("POST", token_url, params, headers)
    try:
        body = json.loads(text)
    except ValueError:
        body = {"raw": text}
    return status, body


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--authorize-url", help="URL to start at (RP login URL, or the provider's /auth?... URL)")
    ap.add_argument("--issuer", help="provider issuer: build the /auth URL here (fresh state + PKCE S256 pair)")
    ap.add_argument("--user", default="alice", help="username submitted on the login form (becomes sub)")
    ap.add_argument("--password", default="any", help="password submitted (devInteractions ignores it)")
    ap.add_argument("--stop-at-redirect-uri", metavar="URI",
                    help="stop at the redirect to this URI (compared without query) and report code/state/iss")
    ap.add_argument("--exchange", action="store_true", help="redeem the code at the token endpoint")
    ap.add_argument("--refresh", action="store_true", help="after --exchange, also run a refresh_token grant")
    ap.add_argument("--client-id")
    ap.add_argument("--client-secret")
    ap.add_argument("--auth-method", choices=["basic", "post"], default="basic",
                    help="client authentication at the token endpoint: HTTP Basic (client_secret_basic) or form fields (client_secret_post); the provider accepts both")
    ap.add_argument("--code-verifier", help="PKCE verifier (needed with --authorize-url + --exchange)")
    ap.add_argument("--redirect-uri", help="redirect_uri for building/exchanging (default: --stop-at-redirect-uri)")
    ap.add_argument("--scope", default="openid profile email offline_access promptdb:read promptdb:write")
    ap.add_argument("--resource", help="resource indicator to send in the built /auth URL (omit to use the provider default)")
    ap.add_argument("--token-resource", help="resource parameter to send on token/refresh requests")
    ap.add_argument("--token-url", help="token endpoint (default: from discovery of the iss in the redirect)")
    ap.add_argument("--max-hops", type=int, default=20)
    ap.add_argument("--timeout", type=float, default=10)
    ap.add_argument("-v", "--verbose", action="store_true", help="log each hop to stderr")
    args = ap.parse_args()

    client = Client(verbose=args.verbose, timeout=args.timeout)
    out = {}
    verifier = args.code_verifier
    redirect_uri = args.redirect_uri or args.stop_at_redirect_uri

    if args.issuer:
        if not (args.client_id and redirect_uri):
            ap.error("--issuer needs --client-id and --redirect-uri/--stop-at-redirect-uri")
        verifier = verifier or b64url(secrets.token_bytes(32))
        q = {
            "client_id": args.client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": args.scope,
            "state": b64url(secrets.token_bytes(12)),
            "nonce": b64url(secrets.token_bytes(12)),
            "code_challenge": b64url(hashlib.sha256(verifier.encode()).digest()),
            "code_challenge_method": "S256",
        }
        if args.resource:
            q["resource"] = args.resource
        authorize_url = f"{args.issuer.rstrip('/')}/auth?{urllib.parse.urlencode(q)}"
        out["authorize_url"] = authorize_url
        out["code_verifier"] = verifier
    elif args.authorize_url:
        authorize_url = args.authorize_url
    else:
        ap.error("one of --authorize-url / --issuer is required")

    status, url, text, rp_cookies, stop = run_flow(args, client, authorize_url)

    if not args.stop_at_redirect_uri:
        out.update({"status": status, "url": url, "rp_cookies": rp_cookies})
        if status >= 400:
            out["body"] = text[:2000]
        out["hops"] = client.hops
        print(json.dumps(out, indent=2))
        sys.exit(0 if status < 400 else 1)

    if stop is None:
        fail("never redirected to --stop-at-redirect-uri", client, status=status, url=url, body=text[:2000])
    params = {k: v[0] for k, v in stop.items()}
    out["redirect"] = url
    out["params"] = params
    if "code" not in params:
        fail("redirect carried no code", client, **out)

    if args.exchange:
        if not (args.client_id and args.client_secret and verifier):
            ap.error("--exchange needs --client-id, --client-secret and --code-verifier (or --issuer)")
        token_url = args.token_url
        if not token_url:
            iss = params.get("iss") or (args.issuer and args.issuer.rstrip("/"))
            if not iss:
                ap.error("--token-url needed (no iss in the redirect)")
            _, _, disc = client.request("GET", f"{iss}/.well-known/openid-configuration")
            token_url = json.loads(disc)["token_endpoint"]
        tparams = {"grant_type": "authorization_code", "code": params["code"],
                   "redirect_uri": redirect_uri, "code_verifier": verifier}
        if args.token_resource:
            tparams["resource"] = args.token_resource
        st, body = token_request(args, client, token_url, tparams)
        out["token_status"] = st
        out["token_response"] = body
        if "access_token" in body:
            out["access_token_decoded"] = decode_jwt(body["access_token"])
        if "id_token" in body:
            out["id_token_claims"] = (decode_jwt(body["id_token"]) or {}).get("payload")
        if st != 200:
            fail("token request failed", client, **out)
        if args.refresh:
            if "refresh_token" not in body:
                fail("no refresh_token issued", client, **out)
            rparams = {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}
            if args.token_resource:
                rparams["resource"] = args.token_resource
            st, rbody = token_request(args, client, token_url, rparams)
            out["refresh_status"] = st
            out["refresh_response"] = rbody
            if "access_token" in rbody:
                out["refreshed_access_token_decoded"] = decode_jwt(rbody["access_token"])
            if st != 200:
                fail("refresh request failed", client, **out)
    out["hops"] = client.hops
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
