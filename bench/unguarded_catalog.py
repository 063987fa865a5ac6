"""The catalog without its request guard, for bench/guard.py only: the same app without the
body limit, and Strawberry's plain parse and validation caches in the place of the guard
(which parses and validates through caches of its own, checking the limits), so that the
comparison is between the guard and caching alone. Settings come from the
SHOPGRAPH_CATALOG_* variables, as for `shopgraph serve`.

    .venv/bin/python -m bench.unguarded_catalog
"""

from typing import cast

import uvicorn
from starlette.routing import Route
from strawberry.extensions import ParserCache, ValidationCache

from resolvers.app import SubgraphGraphQL
from resolvers.body_limit import BodyLimit
from resolvers.guard import QUERY_CACHE_SIZE
from resolvers.schema import SubgraphSchema
from shopgraph.registry import app_factory, settings_for


def main() -> None:
    settings = settings_for("catalog")
    app = app_factory("catalog")(settings)
    graphql = next(route.app for route in app.router.routes if isinstance(route, Route) and route.path == "/graphql")
    assert isinstance(graphql, SubgraphGraphQL) and isinstance(graphql.schema, SubgraphSchema)
    schema = graphql.schema
    caches = [lambda: ParserCache(maxsize=QUERY_CACHE_SIZE), lambda: ValidationCache(maxsize=QUERY_CACHE_SIZE)]
    schema.extensions = tuple(caches + [extension for extension in schema.extensions if extension is not schema.guard])
    app.user_middleware = [m for m in app.user_middleware if cast(object, m.cls) is not BodyLimit]
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
