#!/usr/bin/python3
"""check-layering.py — the module kit's layering rules, checked on the tree.

A module is its folder, src/modules/NAME/, plus one line in
src/modules/modules.list and one subdir() line in src/modules/meson.build.
Nothing else may know it.  Four rules (docs/modules.md):

  include   No file under src/daemon/, src/helper/, src/cli/ or src/common/
            includes a header of a module folder (by any spelling that the
            compiler resolves there: "modules/NAME/x.h", "NAME/x.h", ...).
  cross     No file in a module's folder includes another module's header.
  name      A module's name, as code names it -- module_NAME, a path
            modules/NAME/, the string literal "NAME" or 'NAME', and in C
            outside strings any name the module's headers declare
            (function, variable, type, tag, macro) -- appears outside
            src/modules/NAME/ only in src/modules/modules.list,
            src/modules/modules.c, src/modules/meson.build, docs/, tests/,
            bench/ (measurements, like tests), README.md and the module's
            own console page (web/js/NAME.js).  Comments do not count, nor
            does a line whose comment (on it or alone above it) says "not
            the module" (a word that is also a module's name: a CPU mode
            "system", a JSON key "time").  Inside another module's folder
            only module_NAME and modules/NAME/ count: the cross rule judges
            its includes.  `stewardd` is also the program's name, so for it
            only its includes and module_stewardd count.  Names are those of
            the module folders (users/ holds the groups module too).
  length    No C function is over 120 lines unless the comment above it
            says why it is long.

Every violation is printed as FILE:LINE: RULE: what, and its key (the same
without the line, so that edits above it do not change it).  The keys in
tests/layering/known-violations.txt are expected (each line says whether it
is kept, with its reason, or is to be fixed); any other violation fails, and so does a key
in that list that no longer occurs (remove its line).

    check-layering.py [--root DIR] [--known FILE] [--all]
    check-layering.py --self-test

--all prints the known violations too.  --self-test runs the checks over a
small tree made for it, with one violation of each kind planted, and fails
unless each is reported and a clean tree passes.  Exit status 0 when the tree matches
the list, 1 otherwise, 2 on a usage error.
"""

import argparse
import os
import re
import sys

# Where the compiler looks for "quoted" headers after the including file's
# own folder: meson.build's incdir, in order.
INCLUDE_DIRS = ["src/common", "src/modules", "src"]
# Folders of the core, which include no module.
CORE_DIRS = ["src/daemon", "src/helper", "src/cli", "src/common"]
# Scanned for module names (besides the modules' own folders).
SCAN_DIRS = ["src", "web", "tools", "data", "scripts"]
SCAN_FILES = ["meson.build", "meson_options.txt", "Makefile"]
# Where a module's name may appear.
ALLOWED_PREFIXES = ["docs/", "tests/", "bench/", "README.md", "src/modules/modules.c",
                    "src/modules/modules.list",
                    "src/modules/meson.build"]
# Not the project's own text.
SKIP_DIRS = {"node_modules", ".git"}
TEXT_EXT = {".c", ".h", ".js", ".html", ".css", ".build", ".py", ".sh", ".txt",
            ".json", ".conf", ".service", ".socket", ".svg", ""}
SPECIAL = {"stewardd"}

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')
DEFINE_RE = re.compile(r"^\s*#\s*define\s+([A-Za-z_][A-Za-z0-9_]*)")


def rel(root, path):
    return os.path.relpath(path, root).replace(os.sep, "/")


def module_names(root):
    base = os.path.join(root, "src/modules")
    return sorted(d for d in os.listdir(base) if os.path.isdir(os.path.join(base, d)))


def walk(root, top):
    start = os.path.join(root, top)
    if os.path.isfile(start):
        yield start
        return
    for d, dirs, files in os.walk(start):
        dirs[:] = sorted(x for x in dirs if x not in SKIP_DIRS and not x.startswith("build"))
        for f in sorted(files):
            yield os.path.join(d, f)


def read_lines(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read().split("\n")
    except OSError:
        return []


def resolve(root, including, header):
    """The file a quoted #include names, as the compiler finds it; None if
    it is not in the tree (a system header)."""
    for d in [os.path.dirname(including)] + [os.path.join(root, x) for x in INCLUDE_DIRS]:
        p = os.path.normpath(os.path.join(d, header))
        if os.path.isfile(p):
            return rel(root, p)
    return None


def module_of(relpath, modules):
    """The module whose folder holds relpath, or None."""
    parts = relpath.split("/")
    if len(parts) >= 4 and parts[0] == "src" and parts[1] == "modules" and parts[2] in modules:
        return parts[2]
    return None


def page_of(relpath, modules):
    """The module whose own console page relpath is (web/js/NAME.js), or
    None: a page may name its module."""
    m = re.fullmatch(r"web/js/([a-z0-9_]+)\.js", relpath)
    return m.group(1) if m and m.group(1) in modules else None


def check_includes(root, modules, out):
    for top in ["src"]:
        for path in walk(root, top):
            if not path.endswith((".c", ".h")):
                continue
            r = rel(root, path)
            own = module_of(r, modules)
            core = any(r.startswith(d + "/") for d in CORE_DIRS)
            if not own and not core:
                continue
            for n, line in enumerate(read_lines(path), 1):
                m = INCLUDE_RE.match(line)
                if not m:
                    continue
                target = resolve(root, path, m.group(1))
                tm = module_of(target, modules) if target else None
                if not tm or tm == own:
                    continue
                rule = "include" if core else "cross"
                what = 'includes "%s" (module %s)' % (m.group(1), tm)
                out.append((r, n, rule, what))


def name_patterns(name):
    if name in SPECIAL:
        return [("module_" + name, re.compile(r"\bmodule_%s\b" % re.escape(name)))]
    e = re.escape(name)
    return [
        ("module_" + name, re.compile(r"\bmodule_%s\b" % e)),
        ("modules/%s/" % name, re.compile(r"\bmodules/%s/" % e)),
        ('"%s"' % name, re.compile(r'"%s"' % e)),
        ("'%s'" % name, re.compile(r"'%s'" % e)),
    ]


C_WORDS = {"if", "while", "for", "switch", "return", "sizeof", "defined", "__attribute__",
           "_Static_assert", "static_assert", "typeof", "__typeof__", "const", "struct",
           "enum", "union", "void", "int", "char", "unsigned", "signed", "long", "short",
           "bool", "double", "float", "static", "inline", "extern", "typedef"}
IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
ATTR_RE = re.compile(r"__attribute__\s*\(\((?:[^()]|\([^()]*\))*\)\)")


def header_symbols(root, name):
    """The names a module's headers declare at file level: functions,
    variables, types, tags and macros -- what other code would use to
    reach into the module."""
    syms = set()
    d = os.path.join(root, "src/modules", name)
    for path in sorted(walk(root, "src/modules/" + name)):
        if not path.endswith(".h"):
            continue
        lines = strip_c_comments(read_lines(path))
        text = []
        for line in lines:
            m = re.match(r"\s*#\s*define\s+([A-Za-z_][A-Za-z0-9_]*)", line)
            if m:
                syms.add(m.group(1))
            if not line.lstrip().startswith("#"):
                text.append(line)
        code = ATTR_RE.sub(" ", STRING_RE.sub('""', "\n".join(text)))
        depth, stmt, typed_body = 0, "", False
        for ch in code:
            if depth == 0:
                stmt += ch
            if ch == "{":
                if depth == 0:
                    head = stmt[:-1].strip()
                    # struct/enum/union bodies end in a name (a typedef) or
                    # a ';'; a function's body ends the declaration.
                    typed_body = bool(re.search(r"\b(?:struct|enum|union)\b[^(]*$", head))
                    declared(head, syms, body=True)
                    stmt = ""
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    stmt = "}" if typed_body else ""
            elif ch == ";" and depth == 0:
                declared(stmt[:-1], syms, body=False)
                stmt = ""
    return {x for x in syms if x not in C_WORDS and not x.startswith("_")}


def declared(stmt, syms, body):
    stmt = stmt.strip()
    if stmt.startswith("}"):  # the name after a struct/enum body: a typedef
        words = IDENT_RE.findall(stmt)
        if words:
            syms.add(words[-1])
        return
    m = re.match(r"(?:typedef\s+)?(?:struct|enum|union)\s+([A-Za-z_]\w*)\s*$", stmt)
    if m:
        if body:  # a forward declaration of a tag names someone else's type
            syms.add(m.group(1))
        return
    fp = re.search(r"\(\s*\*\s*([A-Za-z_]\w*)\s*\)", stmt)
    if stmt.startswith("typedef") and fp:
        syms.add(fp.group(1))
        return
    m = re.search(r"([A-Za-z_]\w*)\s*\(", stmt)
    if m and not stmt.startswith("typedef"):
        syms.add(m.group(1))
        return
    words = IDENT_RE.findall(re.sub(r"\[[^]]*\]|=.*", "", stmt))
    if words and (stmt.startswith("typedef") or stmt.startswith("extern")):
        syms.add(words[-1])


def strip_c_comments(lines):
    """The lines with /* */ and // comments blanked (line numbers kept)."""
    out, in_comment = [], False
    for line in lines:
        res, i = "", 0
        while i < len(line):
            if in_comment:
                j = line.find("*/", i)
                if j < 0:
                    i = len(line)
                else:
                    in_comment, i = False, j + 2
            elif line.startswith("/*", i):
                in_comment, i = True, i + 2
            elif line.startswith("//", i) and not res.rstrip().endswith(":"):
                i = len(line)
            else:
                res += line[i]
                i += 1
        out.append(res)
    return out


STRING_RE = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')


def strip_hash_comments(lines):
    """meson, Python, shell: a # outside quotes starts a comment."""
    out = []
    for line in lines:
        blanked = STRING_RE.sub(lambda m: "x" * len(m.group(0)), line)
        i = blanked.find("#")
        out.append(line if i < 0 else line[:i])
    return out


# A line whose comment (on it, or alone on the line above) says this means a
# word that happens to be a module's name (a CPU mode "system", a field
# "time"), not the module.
NOT_A_MODULE = "not the module"


def check_names(root, modules, out):
    pats = {m: name_patterns(m) for m in modules}
    for m in modules:
        if m in SPECIAL:
            continue
        syms = sorted(header_symbols(root, m))
        if syms:
            pats[m].append(("symbol", re.compile(r"\b(?:%s)\b" % "|".join(map(re.escape, syms)))))
    seen = set()
    for top in SCAN_DIRS + SCAN_FILES:
        for path in walk(root, top):
            r = rel(root, path)
            if r in seen:
                continue
            seen.add(r)
            if any(r == p or r.startswith(p) for p in ALLOWED_PREFIXES):
                continue
            if os.path.splitext(r)[1] not in TEXT_EXT or os.path.getsize(path) > 2_000_000:
                continue
            own = module_of(r, modules) or page_of(r, modules)
            in_module = r.startswith("src/modules/") and own is not None
            lines = read_lines(path)
            is_c = r.endswith((".c", ".h"))
            if r.endswith((".c", ".h", ".js", ".css")):
                code = strip_c_comments(lines)
            elif r.endswith((".build", ".py", ".sh", ".txt", ".conf")) or "." not in r:
                code = strip_hash_comments(lines)
            else:
                code = lines
            own_defines = {m.group(1) for m in map(DEFINE_RE.match, code) if m} if is_c else set()
            for n, line in enumerate(code, 1):
                if is_c and INCLUDE_RE.match(line):
                    continue  # the include rules judge those
                if NOT_A_MODULE in lines[n - 1] or (
                        n > 1 and lines[n - 2].strip().startswith("/*")
                        and NOT_A_MODULE in lines[n - 2]):
                    continue  # a word that is also a module's name, said so
                no_strings = STRING_RE.sub('""', line)
                for m, plist in pats.items():
                    if m == own:
                        continue
                    for label, rx in plist:
                        if in_module and not label.startswith("module"):
                            continue
                        if label == "symbol" and not is_c:
                            continue  # identifiers are C's
                        text = no_strings if label == "symbol" else line
                        for hit in rx.finditer(text):
                            if label == "symbol" and hit.group(0) in own_defines:
                                continue  # the file's own macro of that name
                            what = "names module %s (%s)" % (m, hit.group(0))
                            out.append((r, n, "name", what))


MAX_FUNCTION_LINES = 120
FUNC_START_RE = re.compile(r"^[A-Za-z_][^;]*\(")
FUNC_NAME_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def check_lengths(root, out):
    for top in ["src", "tools"]:
        for path in walk(root, top):
            if not path.endswith(".c"):
                continue
            r = rel(root, path)
            lines = read_lines(path)
            i = 0
            while i < len(lines):
                line = lines[i]
                if not FUNC_START_RE.match(line) or line.startswith(("typedef", "struct ", "#")):
                    i += 1
                    continue
                # The signature runs to the first line that opens the body.
                j = i
                while j < len(lines) and not lines[j].rstrip().endswith("{"):
                    if lines[j].rstrip().endswith(";") or (j > i and not lines[j].startswith(" ")):
                        break
                    j += 1
                if j >= len(lines) or not lines[j].rstrip().endswith("{") or "=" in lines[i].split("(")[0]:
                    i += 1
                    continue
                k = j + 1
                while k < len(lines) and lines[k] != "}":
                    k += 1
                n = k - i + 1
                if n > MAX_FUNCTION_LINES and not reason_above(lines, i):
                    name = FUNC_NAME_RE.search(line)
                    what = "function %s is over %d lines" % (
                        name.group(1) if name else "?", MAX_FUNCTION_LINES)
                    out.append((r, i + 1, "length", what))
                i = k + 1


def reason_above(lines, i):
    """Whether the comment just above line i says why the function is long."""
    k = i - 1
    text = []
    while k >= 0 and lines[k].strip() and (lines[k].lstrip().startswith(("/*", "*", "//"))
                                           or lines[k].rstrip().endswith("*/")):
        text.append(lines[k])
        k -= 1
    return re.search(r"\blong\b", " ".join(text)) is not None


def load_known(path):
    known = {}
    if not os.path.exists(path):
        return known
    for n, line in enumerate(read_lines(path), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        parts = s.split(None, 1)
        if len(parts) != 2 or parts[0] not in {"kept", "fix"}:
            print("%s:%d: expected kept|fix KEY" % (path, n),
                  file=sys.stderr)
            sys.exit(2)
        known[parts[1]] = (parts[0], n)
    return known


def self_test():
    import tempfile

    def tree(d, files):
        for path, text in files.items():
            p = os.path.join(d, path)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "w") as f:
                f.write(text)

    clean = {
        "src/modules/alpha/alpha.c": '#include "module.h"\nconst module_t module_alpha;\n',
        "src/modules/alpha/alpha.h": "int alpha_x(void);\n",
        "src/modules/beta/beta.c": 'static const char *n = "beta"; /* not "alpha" */\n',
        "src/modules/stewardd/stewardd.c": "int stewardd_x;\n",
        "src/modules/modules.c": "extern const module_t module_alpha;\n",
        "src/common/module.h": "",
        "src/daemon/main.c": '/* stewardd: alpha_x in a comment */\nconst char *p = "alpha_x";\n',
        "docs/modules.md": "alpha\n",
        "web/js/alpha.js": "api('alpha');\n",
        "src/common/ok.c": ("/* long because it is one state machine */\nint f(void) {\n"
                            + "        x();\n" * 130 + "}\n"),
    }
    planted = {
        "src/daemon/http.c": ('#include "modules/alpha/alpha.h"\n', "include"),
        "src/cli/x.c": ('#include "alpha/alpha.h"\n', "include"),
        "src/modules/beta/b2.c": ('#include "modules/alpha/alpha.h"\n', "cross"),
        "src/helper/h.c": ("int y = alpha_x();\n", "name"),
        "src/daemon/api.c": ('const char *m = "alpha";\n', "name"),
        "src/modules/beta/b3.c": ("extern const module_t module_alpha;\n", "name"),
        "web/js/app.js": ("go('alpha');\n", "name"),
        "src/daemon/s.c": ("extern const module_t module_stewardd;\n", "name"),
        "src/common/long.c": ("/* A comment. */\nstatic int g(int a,\n      int b) {\n"
                              + "        x();\n" * 119 + "}\n", "length"),
    }
    ok = True
    with tempfile.TemporaryDirectory() as d:
        tree(d, clean)
        found = []
        check_includes(d, module_names(d), found)
        check_names(d, module_names(d), found)
        check_lengths(d, found)
        if found:
            print("self-test: a clean tree reported %s" % found)
            ok = False
        for path, (text, rule) in planted.items():
            tree(d, {path: text})
            found = []
            check_includes(d, module_names(d), found)
            check_names(d, module_names(d), found)
            check_lengths(d, found)
            hits = [x for x in found if x[0] == path and x[2] == rule]
            if len(found) != 1 or not hits:
                print("self-test: %s (%s) reported %s" % (path, rule, found))
                ok = False
            os.remove(os.path.join(d, path))
    print("self-test: %s" % ("ok" if ok else "FAILED"))
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--root", default=os.path.normpath(os.path.join(here, "../..")))
    ap.add_argument("--known", default=os.path.join(here, "known-violations.txt"))
    ap.add_argument("--all", action="store_true")
    ap.add_argument("--self-test", action="store_true")
    a = ap.parse_args()
    if a.self_test:
        return self_test()

    modules = module_names(a.root)
    found = []
    check_includes(a.root, modules, found)
    check_names(a.root, modules, found)
    check_lengths(a.root, found)
    known = load_known(a.known)

    keys = {}
    for f, n, rule, what in found:
        keys.setdefault("%s: %s: %s" % (f, rule, what), []).append(n)

    new = [k for k in keys if k not in known]
    gone = [k for k in known if k not in keys]
    for k in sorted(keys):
        if k in known and not a.all:
            continue
        f, rest = k.split(": ", 1)
        for n in keys[k]:
            tag = "known (%s)" % known[k][0] if k in known else "VIOLATION"
            print("%s:%d: %s [%s]" % (f, n, rest, tag))
    for k in sorted(gone):
        owner, n = known[k]
        print("%s:%d: no longer occurs, remove the line: %s %s" % (a.known, n, owner, k))
    print("modules: %s; %d violation(s) known, %d new, %d known ones gone"
          % (" ".join(modules), len(keys) - len(new), len(new), len(gone)))
    return 1 if new or gone else 0


if __name__ == "__main__":
    sys.exit(main())
