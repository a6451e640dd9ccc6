# The orchestrator (FastAPI) talking to TorchServe and MongoDB over the network:
#   docker build -f docker/orchestrator.Dockerfile -t museaika-orchestrator .
#   docker run -e MUSEAIKA_INFERENCE_BACKEND=torchserve -e MUSEAIKA_TORCHSERVE_INFERENCE_URL=http://torchserve:8080 \
#              -e MUSEAIKA_TORCHSERVE_MANAGEMENT_URL=http://torchserve:8081 -e MUSEAIKA_MONGO_URL=mongodb://mongo:27017 ...
# Not built in this repository's CI (no Docker engine there).
FROM python:3.11-slim-bookworm
WORKDIR /srv
COPY requirements/ requirements/
RUN pip install --no-cache-dir -r requirements/runtime.txt \
    && pip install --no-cache-dir --no-deps -r requirements/nodeps.txt
COPY handlers/ handlers/
COPY networks/ networks/
COPY orchestrator/ orchestrator/
COPY config/ config/
COPY model_store/*.mar model_store/
ENV PYTHONPATH=/srv MUSEAIKA_INFERENCE_BACKEND=torchserve
EXPOSE 8000
USER nobody
CMD ["python", "-m", "uvicorn", "orchestrator.main:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000"]
