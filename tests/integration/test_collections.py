"""Collections and events described as data: what GET /api/v1/modules/{m}/schema publishes,
and the generic CLI built from it.  Reads only: nothing here changes the system."""


def schema_of(d, module, collection):
    r = d.https("GET", f"/api/v1/modules/{module}/schema")
    assert r.status == 200
    [s] = [c for c in r.json["collection_schemas"] if c["name"] == collection]
    return s


def test_collections_publish_their_schemas(daemon):
    users = schema_of(daemon, "users", "users")
    assert users["item"] == "user" and users["id"] == "name"
    fields = {f["name"]: f for f in users["fields"]}
    assert fields["password"]["secret"] and fields["password"]["create"] and not fields["password"]["shown"]
    assert fields["uid"]["create"] and not fields["uid"]["modify"] and fields["uid"]["type"] == "integer"
    assert fields["new_name"]["modify"] and not fields["new_name"]["create"]
    assert [c["field"] for c in users["columns"]][:3] == ["name", "uid", "gid"]
    query = {q["name"]: q["type"] for q in users["query"]}
    assert query["remove_home"] == "boolean" and query["prefix"] == "string"
    verbs = {v["name"]: v for v in users["verbs"]}
    assert verbs["lock"]["op"] == "modify" and verbs["lock"]["body"] == {"locked": True}
    assert verbs["passwd"]["password"] and not verbs["delete"]["password"]
    groups = schema_of(daemon, "groups", "groups")
    members = {v["name"]: v for v in groups["verbs"]}["members"]
    assert members["bare_show"] and {o["field"] for o in members["options"]} >= {"add_members", "remove_members"}
    # each collection takes its own query arguments: groups have no home to measure
    assert "home_size" not in {q["name"] for q in groups["query"]}
    assert "home_size" in query
    assert {q["name"]: q.get("choices") for q in groups["query"]}["type"] == ["regular", "system", "all"]


def test_modules_declare_their_events(daemon):
    names = {}
    for m in daemon.https("GET", "/api/v1/modules").json["modules"]:
        for e in daemon.https("GET", f"/api/v1/modules/{m['name']}/schema").json["events"]:
            names[e["name"]] = (m["name"], e["min_role"])
    assert names == {"sample": ("metrics", "monitor"), "audit": ("stewardd", "monitor"),
                     "ports": ("ports", "monitor")}


def test_cli_builds_verbs_from_the_schema(daemon):
    p = daemon.cli("users", "add", "--help", check=0)
    assert p.stdout.startswith("usage: steward users add NAME")
    assert "--comment TEXT" in p.stdout and "full_name" in p.stdout and "--password[=PW]" in p.stdout
    p = daemon.cli("groups", "members", "--help", check=0)
    assert "--add U,…" in p.stdout and "add_members" in p.stdout
    p = daemon.cli("groups", "frobnicate", check=2)
    assert "members" in p.stderr and "list" in p.stderr
    p = daemon.cli("nosuchcollection", "list", check=2)
    assert "unknown command" in p.stderr
    p = daemon.cli("groups", "members", "root", check=0)
    assert "groups:root:gid = 0" in p.stdout
    p = daemon.cli("groups", "list", "--prefix", "roo", check=0)
    lines = p.stdout.splitlines()
    assert lines[0].split() == ["NAME", "GID", "MEMBERS", "LOCAL"] and lines[1].split()[:2] == ["root", "0"]
