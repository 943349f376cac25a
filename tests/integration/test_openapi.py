"""The OpenAPI document (GET /api/v1/openapi.json, written at build time by
tools/gen-openapi.c from the daemon's route tables and module registry)
against the daemon that serves it, both ways: every operation the document
lists is answered, and every route the daemon answers is in the document.

"Answered" means routed: anything but a 405 or the router's own 404 ("no
such resource"; h_action's "no such action").  A 404 of a handler (no such
user, no token 0) is an answer of a route.  The probes run as a monitor, so
that every route that changes anything stops at its role check (403) after
routing, and ids that exist nowhere (0) keep the monitor's routes
(revoking a token, ending a session) from acting.  The lint of the document
by a real validator is the build's test openapi-lint (meson.build)."""
import http.client
import json
import re

from conftest import BUILD

METHODS = ("GET", "POST", "PATCH", "DELETE", "PUT")
# A value for each path parameter of the document.
SAMPLES = {"id": "0", "name": "root", "port": "660", "dir": "x", "subdir": "y", "user": "root", "pid": "1",
           "fingerprint": "0123456789abcdef"}


def monitor_token(d):
    r = d.https("POST", "/api/v1/tokens", {"name": "openapi-probe", "role": "monitor",
                                            "expires_in": 3600})
    assert r.status == 200, r
    return r.json["token"]


class Prober:
    """One keep-alive connection; each probe is one request."""

    def __init__(self, d, token):
        self.d, self.token = d, token
        self.conn = None

    def __call__(self, method, path):
        if path.split("?")[0] == "/api/v1/events":
            path += "?types=no-such-type"  # an argument error, not a stream
        body = json.dumps({}).encode() if method in ("POST", "PATCH", "PUT") else None
        headers = {"Authorization": f"Bearer {self.token}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPSConnection("127.0.0.1", self.d.port,
                                                        context=self.d.ssl_context(), timeout=30)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                r = self.conn.getresponse()
                text = r.read().decode()
                if r.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return r.status, text
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise

    def close(self):
        if self.conn:
            self.conn.close()


def routed(status, text):
    if status == 405:
        return False
    if status != 404:
        return True
    error = json.loads(text)["error"]
    # The generic module routes answer for modules and commands that exist,
    # the collections' action route for the actions a collection has.
    if error["code"] in ("unknown_module", "unknown_command", "unknown_action"):
        return False
    return not (error["message"] == "no such resource" or error["message"].startswith("no such action"))


def concrete(path):
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLES[m.group(1)], path)


def template_re(path):
    return re.compile("^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(path)) + "$")


def document(d):
    r = d.https("GET", "/api/v1/openapi.json")
    assert r.status == 200, r
    assert r.headers["Content-Type"].startswith("application/json")
    return r.json


def test_the_document_is_the_built_one_and_needs_a_session(daemon):
    doc = document(daemon)
    assert doc["openapi"] == "3.1.0"
    assert doc == json.loads((BUILD / "openapi.json").read_text())
    r = daemon.https("GET", "/api/v1/openapi.json", token=False)
    assert r.status == 401 and r.json["error"]["code"] == "unauthenticated"
    # A monitor reads it like every other description of the API.
    assert daemon.https("GET", "/api/v1/openapi.json", token=monitor_token(daemon)).status == 200


def test_every_operation_in_the_document_is_served(daemon):
    doc = document(daemon)
    probe = Prober(daemon, monitor_token(daemon))
    unserved = []
    try:
        for path, item in doc["paths"].items():
            for method in item:
                if (method, path) == ("post", "/api/v1/logout"):
                    continue  # below, with a token of its own
                status, text = probe(method.upper(), concrete(path))
                if not routed(status, text):
                    unserved.append((method, path, status, text[:120]))
    finally:
        probe.close()
    assert not unserved
    # Logging out ends the session that asked: a token made for it.
    assert "post" in doc["paths"]["/api/v1/logout"]
    status, _ = Prober(daemon, monitor_token(daemon))("POST", "/api/v1/logout")
    assert status == 200


def candidates(doc):
    """Paths to try: every prefix of the document's paths, and each of them
    with one more segment from a vocabulary of every segment the document
    uses, every module, command and collection name, and words an API could
    plausibly answer to."""
    words = {"start", "stop", "restart", "reload", "status", "fullstatus", "schema", "settings",
             "commands", "registry", "history", "series", "verify", "rollback", "sd", "metrics",
             "clock", "alerts", "logs", "services", "shares", "processes", "network", "events",
             "login", "logout", "whoami", "tokens", "sessions", "audit", "modules", "ports",
             "openapi.json", "openapi", "api", "v1", "v2", "health", "version", "0", "660", "root",
             "x", "discover", "console", "index.html"}
    prefixes = {""}
    for path in doc["paths"]:
        segs = concrete(path).strip("/").split("/")
        words.update(segs)
        for i in range(1, len(segs) + 1):
            prefixes.add("/" + "/".join(segs[:i]))
    paths = set(prefixes) - {""}
    for p in prefixes:
        for w in words:
            paths.add(f"{p}/{w}")
    return sorted(paths)


ACTION = re.compile(r"/api/v1/modules/([^/]+)/(start|stop|restart)")


def served_past_role(d, admin, method, path):
    """Whether a route that refused the monitor (403) would serve an admin:
    the route matched, its handler decides (an unknown module, an action the
    module does not have).  Asked as an admin only where nothing can act:
    a module's real action is read from its schema instead."""
    m = ACTION.fullmatch(path)
    if method == "POST" and m:
        r = d.https("GET", f"/api/v1/modules/{m.group(1)}/schema")
        return r.status == 200 and m.group(2) in r.json.get("actions", [])
    return routed(*admin(method, path))


def test_every_route_the_daemon_serves_is_in_the_document(daemon):
    doc = document(daemon)
    templates = [(m.upper(), template_re(p)) for p, item in doc["paths"].items() for m in item]
    probe = Prober(daemon, monitor_token(daemon))
    admin = Prober(daemon, daemon.token)
    missing, walked = [], 0
    try:
        for path in candidates(doc):
            # The console's own files are not the API: the document leaves
            # them out.
            if path.count("/") == 1 and path not in ("/api", "/metrics"):
                continue
            # A path that no route's pattern matches is the router's 404 for
            # every method (a pattern that matches with another method is a
            # 405): one GET tells.
            status, text = probe("GET", path)
            if not routed(status, text) and status == 404:
                continue
            for method in METHODS:
                if (method, path) == ("POST", "/api/v1/logout"):
                    continue
                status, text = probe(method, path) if method != "GET" else (status, text)
                if not routed(status, text):
                    continue
                walked += 1
                if any(m == method and t.match(path) for m, t in templates):
                    continue
                if status == 403 and not served_past_role(daemon, admin, method, path):
                    continue
                missing.append((method, path, status, text[:120]))
    finally:
        probe.close()
        admin.close()
    assert not missing, "\n".join(map(str, missing))
    assert walked >= sum(len(item) for item in doc["paths"].values()) - 1
    # The walk changed nothing for its token: it is still valid.
    assert daemon.https("GET", "/api/v1/whoami", token=probe.token).status == 200


def test_the_document_describes_the_registry(daemon):
    doc = document(daemon)
    schemas = doc["components"]["schemas"]
    assert {"Error", "Session", "ModuleStatus", "AuditRecord"} <= set(schemas)
    # A settings row: type, bounds, default, description, restart.
    modules = daemon.https("GET", "/api/v1/modules").json["modules"]
    for m in modules:
        schema = daemon.https("GET", f"/api/v1/modules/{m['name']}/schema").json
        change = schemas[f"SettingsChange_{m['name']}"]["properties"]
        for s in schema["settings"]:
            if s.get("read_only"):
                assert s["key"] not in change
                continue
            p = change[s["key"]]
            assert p.get("description", "") == s["description"], s
            if "min" in s and p["type"] == "integer":
                assert (p["minimum"], p["maximum"]) == (s["min"], s["max"]), s
        for c in schema["commands"]:
            op = doc["paths"][f"/api/v1/modules/{m['name']}/commands/{c['name']}"]["post"]
            args = op["requestBody"]["content"]["application/json"]["schema"]
            assert set(args["properties"]) == {a["name"] for a in c.get("args", [])}, c
    security = doc["components"]["securitySchemes"]
    assert security["bearer"]["scheme"] == "bearer"
    assert security["session"]["name"] == "__Host-steward_session"
    assert doc["paths"]["/api/v1/login"]["post"]["security"] == []
    events = doc["paths"]["/api/v1/events"]["get"]["x-steward-events"]
    assert {"sample", "audit"} <= {e["name"] for e in events}


def test_answers_match_the_document(daemon):
    """Every GET of the document, with its sample parameters, answers a body
    that its schema accepts (JSON Schema 2020-12, as OpenAPI 3.1 says)."""
    import jsonschema
    doc = document(daemon)
    checked, wrong = 0, []
    for path, item in doc["paths"].items():
        op = item.get("get")
        if not op or path == "/api/v1/events":
            continue
        content = op["responses"]["200"]["content"]
        if "application/json" not in content:
            continue
        r = daemon.https("GET", concrete(path) + ("?series=cpu.busy" if path.endswith("/history") else ""))
        if r.status == 503 and r.json["error"]["code"] == "unavailable":
            continue  # a module with nothing to manage here (services without systemd)
        if r.status != 200:
            # A sample id that is not there, or a module with nothing to read
            # on this host (no journal, no systemd).
            # A sample id of another grammar (a queue id) is refused naming it.
            params = set(re.findall(r"\{(\w+)\}", path))
            assert (r.status == 404 and "{" in path) or \
                (r.status == 400 and r.json["error"].get("field") in params) or \
                (r.status == 503 and r.json["error"]["code"] == "unavailable"), (path, r)
            continue
        schema = dict(content["application/json"]["schema"], components=doc["components"])
        v = jsonschema.Draft202012Validator(schema)
        wrong += [f"GET {path}: {e.json_path}: {e.message[:200]}" for e in v.iter_errors(r.json)]
        checked += 1
    assert not wrong, "\n".join(wrong)
    assert checked >= 30


def test_every_flag_of_a_read_is_read(daemon):
    """A boolean query parameter of a GET is a flag the route parses in the
    API's one grammar: a bad value is 400 naming it."""
    doc = document(daemon)
    seen = 0
    for path, item in doc["paths"].items():
        op = item.get("get")
        for p in (op or {}).get("parameters", []):
            if p["in"] != "query" or p["schema"].get("type") != "boolean":
                continue
            r = daemon.https("GET", f"{concrete(path)}?{p['name']}=maybe")
            assert r.status == 400 and r.json["error"]["field"] == p["name"], (path, p["name"], r)
            seen += 1
    assert seen >= 10


def doc_routes(text):
    """(METHOD, path) of every route the prose names in backquotes:
    "GET\\|POST /api/v1/users", "/api/v1/audit[/{id}]", "start|stop|restart"."""
    out = set()
    for methods, path in re.findall(r"`((?:GET|POST|PATCH|DELETE)(?:\\?\|(?:GET|POST|PATCH|DELETE))*)"
                                    r" (/[^`? ]*)", text):
        path = path.replace("\\|", "|")
        paths = [path]
        m = re.search(r"\[(/[^\]]*)\]", path)
        if m:
            paths = [path.replace(m.group(0), ""), path.replace(m.group(0), m.group(1))]
        for p in paths:
            segs = [s.split("|") for s in p.strip("/").split("/")] if p != "/" else [[""]]
            for method in methods.replace("\\", "").split("|"):
                for combo in _product(segs):
                    out.add((method, "/" + "/".join(combo)))
    return out


def _product(segs):
    if not segs:
        return [[]]
    return [[s] + rest for s in segs[0] for rest in _product(segs[1:])]


def same_route(a, b):
    """Whether two paths name the same route: segment by segment equal, or
    either one a {parameter}."""
    sa, sb = a.strip("/").split("/"), b.strip("/").split("/")
    return len(sa) == len(sb) and all(x == y or x.startswith("{") or y.startswith("{")
                                      for x, y in zip(sa, sb))


def test_the_docs_name_only_routes_of_the_document():
    """README's table and docs/api.md's headings name routes this build
    serves: each is an operation of the document (the console's `GET /`
    aside)."""
    from conftest import ROOT
    doc = json.loads((BUILD / "openapi.json").read_text())
    ops = [(m.upper(), p) for p, item in doc["paths"].items() for m in item]
    named = doc_routes((ROOT / "README.md").read_text())
    named |= doc_routes("\n".join(l for l in (ROOT / "docs/api.md").read_text().splitlines()
                                  if l.startswith("#")))
    named.discard(("GET", "/"))
    # The contract's service actions, "for modules that have it": no module
    # of this build has start or stop (time has restart).
    named -= {("POST", "/api/v1/modules/{m}/start"), ("POST", "/api/v1/modules/{m}/stop")}
    assert len(named) >= 30
    stray = sorted((m, p) for m, p in named if not any(m == om and same_route(p, op) for om, op in ops))
    assert not stray
