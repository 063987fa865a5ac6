# One image for every shopgraph Python process; the command picks what runs (`serve NAME`,
# `worker NAME`, `migrate`, `events create-topics`), and the environment configures it: the
# image sets nothing that differs between deployments. tests/test_packaging.py checks this file
# against the code (no Docker engine runs where the suite runs).

# Build: the locked production dependencies, then the project as a wheel, into /app/.venv.
FROM python:3.11-slim AS build
ENV UV_PROJECT_ENVIRONMENT=/app/.venv UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
# --no-default-groups needs uv 0.6 or later.
RUN pip install --no-cache-dir "uv>=0.6,<1"
WORKDIR /src
COPY pyproject.toml uv.lock README.md ./
# pyproject's [tool.uv] default-groups are dev and devstack: --no-default-groups leaves both
# out (--no-dev alone would install the local stand-ins).
RUN uv sync --frozen --no-default-groups --no-install-project
# The wheel's packages ([tool.hatch.build.targets.wheel]); devstack/ is not one of them.
COPY shopgraph shopgraph
COPY subgraphs subgraphs
COPY resolvers resolvers
COPY events events
# Not editable: the environment holds the wheel's files and needs no sources beside it.
RUN uv sync --frozen --no-default-groups --no-editable

# Run: the environment alone (no uv, no sources), as a user that owns nothing in it.
FROM python:3.11-slim
RUN groupadd --system --gid 10001 shopgraph \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin shopgraph
COPY --from=build /app/.venv /app/.venv
ENV PATH="/app/.venv/bin:$PATH" PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
# Numeric, so a runtime that refuses root (Kubernetes' runAsNonRoot) can verify it.
USER 10001:10001
ENTRYPOINT ["shopgraph"]
