# TorchServe 0.12 serving model_store/*.mar (every version config/models.yaml lists) on a CUDA host (or on CPU,
# see below).
# Build from the repository root after ./museaika setup (which builds the archives):
#   docker build -f docker/torchserve.Dockerfile -t museaika-torchserve:gpu .
#   docker build -f docker/torchserve.Dockerfile --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu \
#                -t museaika-torchserve:cpu .
# The torch/torchvision pins are requirements/runtime.txt's. PyPI's Linux x86_64 torch wheels are the CUDA 12
# builds: the nvidia-* wheels they depend on bring the CUDA runtime, cuBLAS and cuDNN, and the host's driver
# comes in through the NVIDIA Container Toolkit (compose device reservation / nvidia.com/gpu), so the base
# image needs no CUDA of its own and runs the same Python 3.11 as everything else.
# Not built in this repository's CI (no Docker engine there); the same archives and batching are exercised by
# tests/stack/test_torchserve.py on a local TorchServe, and tests/unit/test_deployment_files.py checks the wiring.
FROM python:3.11-slim-bookworm
ARG TORCH_INDEX_URL=https://pypi.org/simple
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update && apt-get install -y --no-install-recommends openjdk-17-jre-headless \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /srv
COPY requirements/runtime.txt requirements/nodeps.txt requirements/
# torch/torchvision first, from the chosen index; then the rest (the torch pins are already met);
# facenet-pytorch and tinysoundfont code only (--no-deps), never fer (a benchmark peer that pulls TensorFlow).
RUN grep -E '^(torch|torchvision)==' requirements/runtime.txt \
        | pip install --no-cache-dir --index-url "$TORCH_INDEX_URL" --extra-index-url https://pypi.org/simple -r /dev/stdin \
    && pip install --no-cache-dir -r requirements/runtime.txt \
    && grep -E '^(facenet-pytorch|tinysoundfont)==' requirements/nodeps.txt \
        | pip install --no-cache-dir --no-deps -r /dev/stdin
RUN groupadd --system --gid 10001 museaika && useradd --system --uid 10001 --gid museaika --create-home museaika \
    && mkdir -p /srv/logs /var/run/torchserve && chown museaika:museaika /srv/logs /var/run/torchserve
# Every archive in model_store/: the default versions TorchServe loads at start and the others, registered
# on demand for rollback.
COPY model_store/*.mar model_store/
COPY docker/torchserve.properties config/torchserve.properties
COPY docker/ts_healthcheck.py docker/ts_healthcheck.py
# TorchServe writes key_file.json (its random API keys; token authorization stays on) into its working
# directory: /var/run/torchserve, a volume compose shares read-only with the orchestrator and the worker.
ENV LOG_LOCATION=/srv/logs METRICS_LOCATION=/srv/logs TS_KEY_FILE=/var/run/torchserve/key_file.json
USER 10001:10001
EXPOSE 8080 8081 8082
HEALTHCHECK --interval=15s --timeout=5s --start-period=180s --retries=3 \
    CMD ["python", "/srv/docker/ts_healthcheck.py"]
CMD ["sh", "-c", "cd /var/run/torchserve && exec torchserve --start --foreground --ncs --model-store /srv/model_store --ts-config /srv/config/torchserve.properties"]
