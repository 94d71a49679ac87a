"""docs/openapi.yaml describes the whole API (issue 13): its paths and
methods are exactly the router's route table (src/server/router.c), no
route missing or extra; an operation is public (`security: []`) only when
its route needs no admin role; every operation has a summary and
responses. Then, against a real rollgated, every documented GET route
without path parameters answers (not 404/405), so the table the test reads
is the one the server serves. Standard library only: the YAML is read line
by line in the layout the file keeps (paths at two spaces, methods at
four), which its header comment states.
# ctest-labels: ops
"""
import os
import re

import rg
from rg import expect

SPEC = os.path.join(rg.SOURCE_DIR, "docs", "openapi.yaml")
ROUTER = os.path.join(rg.SOURCE_DIR, "src", "server", "router.c")
ROUTE = re.compile(r'\{"(GET|POST|PUT|DELETE|PATCH)", "([^"]+)", (RG_ROLE_\w+)')


def routes():
    """(METHOD, pattern with {}) -> public?, from the router's table."""
    with open(ROUTER) as f:
        text = f.read()
    table = text[text.index("static const rg_route routes[]"):]
    table = table[:table.index("};")]
    found = {(m, p): role == "RG_ROLE_NONE" for m, p, role in
             ROUTE.findall(re.sub(r"\s+", " ", table))}
    expect(len(found) >= 30, "the route table was read", found)
    return found


def operations():
    """(METHOD, pattern with {}) -> {"public", "summary", "responses"}."""
    ops, path, op, in_paths = {}, None, None, False
    with open(SPEC) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.startswith(" "):
                in_paths = line == "paths:"
                continue
            if not in_paths:
                continue
            m = re.match(r"^  (/\S*):$", line)
            if m:
                path = re.sub(r"\{[^}]+\}", "{}", m.group(1))
                continue
            m = re.match(r"^    (get|put|post|delete|patch):$", line)
            if m:
                op = ops.setdefault((m.group(1).upper(), path), {
                    "public": False, "summary": False, "responses": False})
                continue
            if re.match(r"^    \S", line):
                op = None
            elif op is not None:
                op["public"] |= line == "      security: []"
                op["summary"] |= line.startswith("      summary: ")
                op["responses"] |= line == "      responses:"
    return ops


def status_only(srv, path):
    """The status of GET path, read without its body (the push stream's
    body never ends)."""
    c = srv.client()
    c.conn.request("GET", path, headers={"Authorization": "Bearer " + srv.token})
    st = c.conn.getresponse().status
    c.close()
    return st


def main():
    table, spec = routes(), operations()
    expect(set(table) - set(spec) == set(), "routes missing from openapi.yaml",
           sorted(set(table) - set(spec)))
    expect(set(spec) - set(table) == set(), "openapi.yaml routes the router "
           "does not have", sorted(set(spec) - set(table)))
    for key, op in spec.items():
        expect(op["summary"] and op["responses"], "summary and responses", key)
        expect(op["public"] == table[key] or not op["public"],
               "public only when the route needs no role", key)
        expect(op["public"] or not table[key] or
               key[1].startswith("/v1/agent/"),
               "a route without a role is public, or an agent's (endpoint "
               "token)", key)
    with rg.Server() as srv:
        srv.start()
        for method, path in sorted(spec):
            if method != "GET" or "{}" in path:
                continue
            st = status_only(srv, path)
            expect(st not in (404, 405), "the server serves", path, st)


if __name__ == "__main__":
    rg.run(main)
