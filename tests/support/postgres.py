"""Throwaway PostgreSQL databases, one per subgraph, created for a run and dropped after it."""

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from resolvers.migrations import upgrade
from shopgraph.registry import SUBGRAPHS

ADMIN_DSN = os.environ.get("SHOPGRAPH_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


@asynccontextmanager
async def migrated_databases(purpose: str) -> AsyncIterator[dict[str, str]]:
    """A database per subgraph (``shopgraph_<purpose>_<run>_<subgraph>``), migrated; the
    subgraphs' URLs while they exist."""
    run = uuid.uuid4().hex[:8]
    names = {name: f"shopgraph_{purpose}_{run}_{name}" for name in SUBGRAPHS}
    server = ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    admin = await asyncpg.connect(ADMIN_DSN)
    try:
        for database in names.values():
            await admin.execute(f'CREATE DATABASE "{database}"')
        urls = {name: f"{server}/{database}" for name, database in names.items()}
        for name, url in urls.items():
            await upgrade(name, url)
        yield urls
    finally:
        for database in names.values():
            await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.close()
