# syntax=docker/dockerfile:1
#
# One image for every Kaohe process. The command picks the role:
#   docker run kaohe:TAG migrate             # one-shot: every service's Alembic migrations
#   docker run kaohe:TAG serve indicators    # or scoring | supervision | rewards | gateway
# Configuration comes only from the environment (see kaohe/settings.py); the image carries no
# credentials and no environment-specific URLs.

# Both stages must use the same interpreter: the venv built in stage 1 points at /usr/local/bin/python3.11.
ARG PYTHON_IMAGE=python:3.11-slim

# ---------------------------------------------------------------------------------------------
# Stage 1: resolve dependencies from uv.lock into /opt/venv (no compilers or uv in the final image)
# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS builder

RUN pip install --no-cache-dir uv==0.13.8

# UV_PROJECT_ENVIRONMENT: install into a venv outside the source tree so it can be copied alone.
# UV_COMPILE_BYTECODE: ship .pyc files, the runtime root filesystem may be read-only.
# UV_LINK_MODE=copy: the uv cache mount is on another filesystem, hard links would fail.
# UV_PYTHON_DOWNLOADS=never: use the image's interpreter, never fetch one.
ENV UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never

WORKDIR /src

# Dependencies first (their own layer, rebuilt only when the lock changes)...
COPY pyproject.toml uv.lock README.md ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project

# ...then the project itself, installed as a regular wheel (not editable) so /src is not needed
# at runtime. The directories are the wheel's packages ([tool.hatch.build.targets.wheel]).
COPY kaohe ./kaohe
COPY gateway ./gateway
COPY services ./services
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable

# ---------------------------------------------------------------------------------------------
# Stage 2: runtime
# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

# Numeric UID/GID: Kubernetes' runAsNonRoot can only verify a numeric USER.
RUN groupadd --system --gid 10001 kaohe \
 && useradd --system --uid 10001 --gid 10001 --no-log-init --create-home --home-dir /home/kaohe kaohe

COPY --from=builder /opt/venv /opt/venv

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1

USER 10001:10001
WORKDIR /home/kaohe

# gateway, indicators, scoring, supervision, rewards, documents, notices (DEFAULT_PORTS in kaohe/settings.py)
EXPOSE 27500 27501 27502 27503 27504 27505 27506

# Exec form: kaohe is PID 1 and receives SIGTERM directly for its graceful shutdown.
ENTRYPOINT ["kaohe"]
CMD ["--help"]
