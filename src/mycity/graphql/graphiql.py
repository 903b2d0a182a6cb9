"""GraphiQL, for development (MYCITY_DEV=1), and what a browser is told when it is off.

The page is strawberry's, its scripts and styles pointed at the copies that ship with the
package (`static/graphiql/`, served at the same path) instead of a CDN: GraphiQL works with no
internet, and the browser still checks each file against strawberry's integrity hash.
`static/graphiql/sources.txt` maps each file (its package, version and path, whichever CDN
the page names it on) to its copy.
"""

from __future__ import annotations

import functools
import re
from importlib import resources

from strawberry.http.ides import get_graphql_ide_html

# In the package, and on the server, where the page names them relative to itself (so that
# it keeps working under a path prefix).
ASSETS = "static/graphiql"

OFF = (
    "GraphiQL is off: this server runs without development mode. Run it with MYCITY_DEV=1 to "
    "serve GraphiQL here, on a development machine only, never in production. The API answers "
    "POST /graphql."
)
OFF_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>GraphiQL is off</title></head>
<body>
<h1>GraphiQL is off</h1>
<p>This server runs without development mode, so it serves no GraphiQL. Run it with
<code>MYCITY_DEV=1</code> to serve GraphiQL here: on a development machine only, never in
production.</p>
<p>The API answers <code>POST /graphql</code>. <a href=".">What this server serves</a></p>
</body>
</html>
"""


@functools.cache
def page() -> str:
    """Strawberry's GraphiQL page, loading only the copies that ship with the package."""
    html = get_graphql_ide_html("graphiql")
    sources = resources.files("mycity").joinpath(ASSETS, "sources.txt")
    for line in sources.read_text(encoding="utf-8").splitlines():
        spec, file, copy = line.split()
        cdn_url = re.compile(rf"https://[^\s\"']+/{re.escape(spec)}/{re.escape(file)}(?=\")")
        html = cdn_url.sub(f"{ASSETS}/{copy}", html)
    return html
