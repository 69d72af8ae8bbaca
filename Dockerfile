# crmassist as a container: `docker compose up` (see docker-compose.yml) or
#   docker build -t crmassist . && docker run --rm crmassist crmassist migrate
#
# Three stages: the dependencies (from requirements.lock, a layer that changes only with the
# lock, so a code change never reinstalls torch), the wheel of crmassist itself, and the
# runtime image: no compiler, no source tree, not root.

# -- dependencies --------------------------------------------------------------------------
FROM python:3.11-slim AS deps
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY requirements.lock /tmp/requirements.lock
# torch's CPU build (the lock pins torch==…+cpu) from PyTorch's CPU index: PyPI's Linux
# wheel would bring gigabytes of CUDA libraries.
RUN pip install --extra-index-url https://download.pytorch.org/whl/cpu -r /tmp/requirements.lock

# -- the crmassist wheel (prompts, console, manifest and migrations inside) ---------------
FROM python:3.11-slim AS wheel
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md manifest.yml ./
COPY prompts ./prompts
COPY src ./src
RUN pip wheel --no-deps --wheel-dir /dist .

# -- runtime -------------------------------------------------------------------------------
FROM python:3.11-slim AS runtime
RUN useradd --create-home --uid 10001 crmassist \
    && mkdir /data && chown crmassist:crmassist /data
COPY --from=deps /opt/venv /opt/venv
COPY --from=wheel /dist /tmp/dist
RUN /opt/venv/bin/pip install --no-cache-dir --no-deps /tmp/dist/*.whl && rm -rf /tmp/dist
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
    CRMASSIST_DATA_DIR=/data
WORKDIR /app
# The sample CRM, for `crmassist import knowledge/sample` (the compose setup job runs it).
COPY --chown=crmassist:crmassist knowledge/sample ./knowledge/sample
USER crmassist
VOLUME ["/data"]
EXPOSE 8000
# Migrations are not run here: `crmassist migrate` is a one-off step before the servers
# start (docker-compose.yml's setup job); with CRMASSIST_MIGRATE_ON_START=false a server
# whose schema is behind stops with one line instead.
CMD ["crmassist", "serve", "--host", "0.0.0.0", "--port", "8000"]
