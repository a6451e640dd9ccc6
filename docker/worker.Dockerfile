# The generation worker (saq): renders audio and calls TorchServe for the melody model, so no torch here.
#   docker build -f docker/worker.Dockerfile -t museaika-worker .
# Not built in this repository's CI (no Docker engine there); tests/unit/test_deployment_files.py checks the wiring.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /srv
COPY requirements/orchestrator.txt requirements/nodeps.txt requirements/
# tinysoundfont with --no-deps: its only dependency (pyaudio) is for live playback.
RUN pip install --no-cache-dir -r requirements/orchestrator.txt \
    && grep -E '^tinysoundfont==' requirements/nodeps.txt | pip install --no-cache-dir --no-deps -r /dev/stdin
COPY music/ music/
COPY orchestrator/ orchestrator/
# Settings take each model's served version from config/models.yaml (through archives/served.py).
COPY archives/ archives/
COPY config/models.yaml config/models.yaml
RUN groupadd --system --gid 10001 museaika && useradd --system --uid 10001 --gid museaika --no-create-home museaika
# The worker writes MUSEAIKA_WORKER_READY_FILE once it consumes the queue; the healthcheck looks for it.
ENV PYTHONPATH=/srv MUSEAIKA_INFERENCE_BACKEND=torchserve MUSEAIKA_ENVIRONMENT=production \
    MUSEAIKA_WORKER_READY_FILE=/tmp/museaika-worker.ready
USER 10001:10001
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, sys; sys.exit(not os.path.exists(os.environ['MUSEAIKA_WORKER_READY_FILE']))"]
CMD ["python", "-m", "orchestrator.melodies.worker"]
