"""How stewardd serves the web console (docs/console.md): its files from /
without authentication, with the console's Content-Security-Policy and the
other browser protections, ETag revalidation, 404 elsewhere; and the CSRF
token of a browser session, which whoami renews after a reload."""
import re

import pytest

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "
       "object-src 'none'")


def test_index_is_public_with_the_console_headers(daemon):
    r = daemon.https("GET", "/", token=False)
    assert r.status == 200
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert r.headers["Content-Security-Policy"] == CSP
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")
    assert r.headers["Cache-Control"] == "no-cache"
    assert "<script type=\"module\" src=\"/js/app.js\"></script>" in r.body
    assert daemon.https("GET", "/index.html", token=False).body == r.body


def test_no_inline_script_or_style(daemon):
    html = daemon.https("GET", "/", token=False).body
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
    assert "<style" not in html and " style=" not in html, "inline style"


@pytest.mark.parametrize("path,ctype", [
    ("/js/app.js", "text/javascript; charset=utf-8"),
    ("/console.css", "text/css; charset=utf-8"),
    ("/vendor/uPlot.iife.min.js", "text/javascript; charset=utf-8"),
    ("/vendor/uPlot.min.css", "text/css; charset=utf-8"),
    ("/favicon.svg", "image/svg+xml"),
])
def test_assets(daemon, path, ctype):
    r = daemon.https("GET", path, token=False)
    assert r.status == 200 and r.body
    assert r.headers["Content-Type"] == ctype
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_etag_revalidation(daemon):
    r = daemon.https("GET", "/js/app.js", token=False)
    etag = r.headers["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{16}"', etag)
    r2 = daemon.https("GET", "/js/app.js", token=False, headers={"If-None-Match": etag})
    assert r2.status == 304 and r2.body == ""
    assert r2.headers["ETag"] == etag
    r3 = daemon.https("GET", "/js/app.js", token=False, headers={"If-None-Match": '"0000000000000000"'})
    assert r3.status == 200 and r3.body == r.body


def test_head(daemon):
    r = daemon.https("HEAD", "/", token=False)
    assert r.status == 200 and r.body == ""
    assert r.headers["Content-Security-Policy"] == CSP


def test_unknown_paths_are_404_and_the_api_still_needs_credentials(daemon):
    for path in ("/nothing", "/js/", "/js/../index.html", "/.git/config", "/index.html/x"):
        r = daemon.https("GET", path, token=False)
        assert r.status == 404, path
        assert r.json["error"]["code"] == "not_found"
    assert daemon.https("GET", "/api/v1/modules", token=False).status == 401
    assert daemon.https("GET", "/api", token=False).status == 401
    assert daemon.https("GET", "/metrics", token=False).status == 401
    # Only GET and HEAD reach the console.
    assert daemon.https("POST", "/", {}, token=False).status == 401


def test_console_on_the_unix_socket(daemon):
    r = daemon.unix("GET", "/")
    assert r.status == 200 and "app.js" in r.body
    assert "Strict-Transport-Security" not in r.headers


def test_api_answers_keep_their_own_policy(daemon):
    r = daemon.https("GET", "/api/v1/whoami")
    assert "default-src 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["Referrer-Policy"] == "no-referrer"


# ---- the CSRF token of a browser session ------------------------------------

def browser_login(d, user, password):
    r = d.https("POST", "/api/v1/login", {"user": user, "password": password}, token=False)
    assert r.status == 200, r
    cookie = r.headers["Set-Cookie"].split(";", 1)[0]
    return cookie, r.json["csrf_token"]


def change(d, cookie, csrf=None, level="debug"):
    h = {"Cookie": cookie, "Origin": f"https://127.0.0.1:{d.port}", "Host": f"127.0.0.1:{d.port}"}
    if csrf is not None:
        h["X-CSRF-Token"] = csrf
    return d.https("PATCH", "/api/v1/modules/stewardd/settings?dry_run=1", {"log_level": level},
                   token=False, headers=h)


@pytest.mark.namespaces
def test_whoami_renews_a_browser_sessions_csrf_token(ns_daemon, admin_user):
    d = ns_daemon
    cookie, csrf = browser_login(d, *admin_user)
    assert change(d, cookie, csrf).status == 200
    # Plain whoami changes nothing.
    r = d.https("GET", "/api/v1/whoami", token=False, headers={"Cookie": cookie})
    assert r.status == 200 and r.json["auth"] == "cookie" and "csrf_token" not in r.json
    assert change(d, cookie, csrf).status == 200
    r = d.https("GET", "/api/v1/whoami?csrf=1", token=False, headers={"Cookie": cookie})
    assert r.status == 200
    fresh = r.json["csrf_token"]
    assert re.fullmatch(r"[0-9a-f]{64}", fresh) and fresh != csrf
    assert change(d, cookie, fresh).status == 200
    r = change(d, cookie, csrf)
    assert r.status == 403 and r.json["error"]["code"] == "csrf"
    # A bearer token has no CSRF token to give.
    assert "csrf_token" not in d.https("GET", "/api/v1/whoami?csrf=1").json


@pytest.mark.namespaces
def test_a_cookie_request_from_another_origin_is_refused_even_a_read(ns_daemon, admin_user):
    """SameSite=Strict does not tell a page on another port of this host
    from ours; the Origin and Sec-Fetch-Site headers browsers send do."""
    d = ns_daemon
    cookie, csrf = browser_login(d, *admin_user)
    for extra in ({"Sec-Fetch-Site": "same-site"}, {"Sec-Fetch-Site": "cross-site"},
                  {"Origin": f"https://127.0.0.1:{d.port + 1}"}):
        r = d.https("GET", "/api/v1/whoami?csrf=1", token=False, headers={"Cookie": cookie, **extra})
        assert r.status == 403 and r.json["error"]["code"] == "bad_origin", (extra, r)
    # The old token still works: nothing was renewed.
    assert change(d, cookie, csrf).status == 200
    for extra in ({}, {"Sec-Fetch-Site": "same-origin"}, {"Sec-Fetch-Site": "none"},
                  {"Origin": f"https://127.0.0.1:{d.port}", "Host": f"127.0.0.1:{d.port}"}):
        r = d.https("GET", "/api/v1/whoami", token=False, headers={"Cookie": cookie, **extra})
        assert r.status == 200, (extra, r)
    # A bearer token is not a browser's: these headers do not matter to it.
    assert d.https("GET", "/api/v1/whoami", headers={"Sec-Fetch-Site": "cross-site"}).status == 200


@pytest.mark.namespaces
def test_a_change_without_the_csrf_token_is_refused_even_after_one_with_it(ns_daemon, admin_user):
    d = ns_daemon
    cookie, csrf = browser_login(d, *admin_user)
    assert change(d, cookie, csrf).status == 200
    for bad in (None, "", "0" * 64, csrf[:-1]):
        r = change(d, cookie, bad)
        assert r.status == 403, bad
        assert r.json["error"]["code"] == "csrf"
    assert change(d, cookie, csrf).status == 200
