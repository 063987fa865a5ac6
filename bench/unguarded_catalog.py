"""The catalog without its request guard, for bench/guard.py only: the same app, with the
guard's pieces taken out (the body limit, the document limits rule, the per-operation guard)
and a plain parse cache in the guard's place, so that parsing stays cached as it is with the
guard. Settings come from the SHOPGRAPH_CATALOG_* variables, as for `shopgraph serve`.

    .venv/bin/python -m bench.unguarded_catalog
"""

from typing import cast

import uvicorn
from starlette.routing import Route
from strawberry.extensions import ParserCache

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
    schema.extensions = tuple(
        (lambda: ParserCache(maxsize=QUERY_CACHE_SIZE)) if extension is schema.guard else extension
        for extension in schema.extensions
    )
    schema.validation_rules.remove(schema.limits_rule)
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
