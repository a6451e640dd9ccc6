# TorchServe 0.12 serving model_store/*.mar. Build from the repository root after ./museaika setup:
#   docker build -f docker/torchserve.Dockerfile -t museaika-torchserve .
# Not built in this repository's CI (no Docker engine there); the same archives and config are
# exercised by tests/test_torchserve.py on a local TorchServe.
FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends openjdk-17-jre-headless \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /srv
COPY requirements/ requirements/
RUN pip install --no-cache-dir -r requirements/runtime.txt \
    && pip install --no-cache-dir --no-deps -r requirements/nodeps.txt
COPY model_store/*.mar model_store/
COPY docker/torchserve.properties config/torchserve.properties
EXPOSE 8080 8081 8082
# Token authorization stays on: this image listens on every interface.
CMD ["torchserve", "--start", "--foreground", "--ncs", "--model-store", "model_store", \
     "--ts-config", "config/torchserve.properties"]
