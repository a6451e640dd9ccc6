# The orchestrator API (FastAPI) in production: it calls TorchServe over HTTP, so no torch here.
#   docker build -f docker/orchestrator.Dockerfile -t museaika-orchestrator .
# Run through compose.gpu.yml / compose.cpu.yml or docker/k8s/ (settings: docker/.env.example).
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
COPY models/track-moods/model.json models/track-moods/model.json
RUN groupadd --system --gid 10001 museaika && useradd --system --uid 10001 --gid museaika --no-create-home museaika
ENV PYTHONPATH=/srv MUSEAIKA_INFERENCE_BACKEND=torchserve MUSEAIKA_ENVIRONMENT=production
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
# X-Forwarded-For is trusted only from these addresses (uvicorn reads FORWARDED_ALLOW_IPS): set it to your
# reverse proxy's address. Trusting "*" would let any client pick its own address and dodge per-IP rate limits.
ENV FORWARDED_ALLOW_IPS=127.0.0.1
CMD ["python", "-m", "uvicorn", "orchestrator.app:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000", \
     "--proxy-headers"]
