# One image for every shopgraph Python process; the command picks the subgraph.
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app
RUN pip install --no-cache-dir "uv>=0.5,<1"
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY shopgraph shopgraph
COPY subgraphs subgraphs
COPY resolvers resolvers
COPY events events
COPY devstack devstack
COPY schema schema
RUN uv sync --frozen --no-dev
ENV PATH="/app/.venv/bin:$PATH"
USER nobody
ENTRYPOINT ["shopgraph"]
