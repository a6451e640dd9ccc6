"""All orchestrator settings, read from the environment (prefix MUSEAIKA_)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]
DEVELOPMENT_SECRET = "development-only-secret-change-me"  # nosec B105  # refused outside development
DEVELOPMENT_S3_SECRET_KEY = "museaika-secret"  # nosec B105  # refused outside development


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MUSEAIKA_", env_file=".env", extra="ignore")

    # Inference: "embedded" runs the handlers in this process; "torchserve" calls TorchServe over HTTP.
    inference_backend: Literal["embedded", "torchserve"] = "embedded"
    torchserve_inference_url: str = "http://127.0.0.1:8080"
    torchserve_management_url: str = "http://127.0.0.1:8081"
    # Several TorchServe hosts: per model, inference URLs to spread requests over (JSON, e.g.
    # {"emotion": ["http://ts-a:8080", "http://ts-b:8080"]}); a model not named uses TORCHSERVE_INFERENCE_URL.
    torchserve_endpoints: dict[str, list[str]] = {}
    torchserve_cooldown_s: float = Field(default=5.0, gt=0, description="a failing host sits out this long")
    # TorchServe's keys (key_file.json) when token authorization is on, as in docker/.
    torchserve_inference_token: str | None = None
    torchserve_management_token: str | None = None
    # Or TorchServe's key_file.json itself (shared read-only): read at start and again when a key is refused.
    torchserve_key_file: Path | None = None
    model_store: Path = REPO_ROOT / "model_store"
    torchserve_config: Path = REPO_ROOT / "config" / "torchserve.properties"
    embedded_work_dir: Path = REPO_ROOT / "runtime" / "embedded"
    inference_timeout_s: float = 30.0
    models: list[str] = ["emotion", "sentiment"]
    # Which archive version each model serves (model_store/<name>-<version>.mar; 1.0.0 is <name>.mar). Emotion
    # 2.3.0 is our FER2013 VGG; {"emotion": "1.0.0"} rolls back to fer's mini-Xception. Answers carry the
    # version that produced them. On TorchServe the launcher loads these; `python -m modelops` switches live.
    model_versions: dict[str, str] = {"emotion": "2.3.0"}

    mongo_url: str = "mongodb://127.0.0.1:27017"
    mongo_database: str = "museaika"
    mongo_timeout_ms: int = 2000

    # Generation jobs: a Redis-backed queue, results in S3-compatible object storage.
    redis_url: str = "redis://127.0.0.1:6379/0"
    s3_endpoint: str = "127.0.0.1:9000"  # host:port
    s3_access_key: str = "museaika"
    s3_secret_key: str = DEVELOPMENT_S3_SECRET_KEY  # outside development the app refuses to start with this one
    s3_secure: bool = False
    s3_region: str = "us-east-1"
    s3_bucket: str = "museaika"
    # Links to generated files: anyone holding one can download until it expires, so they are short-lived
    # (SigV4 would allow 7 days; a day at most here).
    presigned_url_ttl_s: int = Field(default=3600, gt=0, le=24 * 3600)
    # The generation worker (python -m orchestrator.melodies.worker): the models it serves itself, how many
    # jobs it runs at once, and when a job counts as lost (no heartbeat) and is retried.
    worker_models: list[str] = ["melody"]
    worker_concurrency: int = Field(default=2, ge=1)
    job_heartbeat_s: int = Field(default=15, ge=1)
    job_timeout_s: int = Field(default=300, ge=1)
    # A job whose dependency (S3, a model server) is down is retried with exponential backoff (saq: full jitter,
    # each delay up to retry_delay_s · 2^attempt, capped): 6 attempts ride out an outage of about half a minute
    # on average, a minute at most, before the job fails with its reason (and can still be retried by the user).
    job_retries: int = Field(default=6, ge=1, description="attempts in all, the first included")
    job_retry_delay_s: float = Field(default=2.0, ge=0)
    job_retry_max_delay_s: float = Field(default=30.0, gt=0)
    job_sweep_interval_s: int = Field(default=2, ge=1)
    max_active_jobs_per_user: int = Field(default=5, ge=1, description="queued + running; more is a 429")

    # Spotify (authorization code + PKCE; no client secret is needed or kept). Unset client id → the
    # Spotify endpoints answer 501 and recommendations come from the catalog alone.
    spotify_client_id: str | None = None
    spotify_redirect_uri: str = "http://127.0.0.1:8000/v1/spotify/callback"
    spotify_accounts_url: str = "https://accounts.spotify.com"
    spotify_api_url: str = "https://api.spotify.com/v1/"
    spotify_scopes: list[str] = ["user-library-read", "user-top-read", "playlist-modify-private"]
    # Fernet key for tokens at rest; required outside development. Secrets are SecretStr: a repr or log of the
    # settings shows '**********'.
    spotify_token_key: SecretStr | None = None
    spotify_timeout_s: float = Field(default=5.0, gt=0)
    spotify_max_wait_s: float = Field(default=3.0, ge=0, description="longest Retry-After we wait out")
    # Only apps created before 2024-11-27 still have GET /recommendations; never needed.
    spotify_use_recommendations_endpoint: bool = False

    max_upload_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    max_image_pixels: int = Field(default=40_000_000, gt=0)
    max_text_chars: int = Field(default=5000, gt=0)
    # Languages the served text model understands ("*" for a multilingual model).
    text_languages: list[str] = ["en"]
    retry_after_s: int = 5

    # Timeouts on outbound calls: a dependency that stops answering (hung, frozen, cut off) costs a call at
    # most about this long, then a 503 with Retry-After; a refused connection fails at once. The others:
    # MONGO_TIMEOUT_MS (server selection and connect), INFERENCE_TIMEOUT_S (a whole TorchServe call),
    # SPOTIFY_TIMEOUT_S (connect, and each read). docs/fault_injection.md measures them.
    mongo_socket_timeout_ms: int = Field(default=10_000, gt=0, description="waiting for one MongoDB reply")
    redis_connect_timeout_s: float = Field(default=2.0, gt=0)
    redis_socket_timeout_s: float = Field(default=5.0, gt=0, description="waiting for one Redis reply")
    s3_connect_timeout_s: float = Field(default=2.0, gt=0)
    s3_read_timeout_s: float = Field(default=3.0, gt=0, description="waiting for each chunk of an S3 answer")
    torchserve_connect_timeout_s: float = Field(default=2.0, gt=0)
    readiness_timeout_s: float = Field(default=3.0, gt=0, description="each dependency's check in /readyz")

    # Accounts. Outside development the app refuses to start with the default secret.
    environment: Literal["development", "production"] = "development"
    jwt_secret: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    access_token_ttl_s: int = Field(default=900, gt=0)
    refresh_token_ttl_s: int = Field(default=30 * 24 * 3600, gt=0)
    allow_anonymous_moods: bool = True  # False: mood calls need a token
    login_failures_per_email: str = "5/minute"
    login_failures_per_client: str = "50/minute"
    cors_origins: list[str] = []
    # The public URL is https (TLS here or at a proxy): browsers are told to use nothing else (HSTS).
    served_over_https: bool = False
    max_json_bytes: int = Field(default=256 * 1024, gt=0)
    log_level: str = "INFO"

    # Abuse limits (orchestrator/limits/limiter.py): "<count>/<period>" as the `limits` library reads it
    # ("600/minute", "20 per 10 seconds"), counted in a moving window in Redis (REDIS_URL), shared by every
    # instance. Every request counts against its client address; one with a valid access token also against
    # its user; costly routes (inference, melody jobs, Spotify writes) also against RATE_LIMIT_COSTLY (per user,
    # else per address) and always against RATE_LIMIT_COSTLY_PER_IP (per address: new accounts do not multiply
    # an address's costly budget; a few people behind one NAT still fit); sign-up/login/refresh against
    # RATE_LIMIT_AUTH_PER_IP. Over a limit: 429 + Retry-After.
    # /healthz, /readyz and /metrics are never limited. Redis away: each process counts on its own until it
    # is back (probed again every RATE_LIMIT_REDIS_RETRY_S). Behind a proxy, run uvicorn with
    # --forwarded-allow-ips so the client address is the caller's, not the proxy's.
    rate_limit_enabled: bool = True
    rate_limit_per_ip: str = "600/minute"
    rate_limit_per_user: str = "300/minute"
    rate_limit_costly: str = "60/minute"
    rate_limit_costly_per_ip: str = "180/minute"
    rate_limit_auth_per_ip: str = "30/minute"
    rate_limit_redis_timeout_s: float = Field(default=0.5, gt=0, description="longest wait for the limiter's Redis")
    rate_limit_redis_retry_s: float = Field(default=5.0, gt=0, description="Redis away: try it again after this")


def check_production_safety(settings: Settings) -> None:
    jwt_secret = settings.jwt_secret.get_secret_value()
    if settings.environment != "development" and jwt_secret == DEVELOPMENT_SECRET:
        raise RuntimeError("MUSEAIKA_JWT_SECRET must be set outside development (MUSEAIKA_ENVIRONMENT)")
    if settings.environment != "development" and len(jwt_secret) < 32:
        raise RuntimeError("MUSEAIKA_JWT_SECRET must be at least 32 characters outside development")
    if settings.environment != "development" and settings.spotify_client_id and not settings.spotify_token_key:
        raise RuntimeError("MUSEAIKA_SPOTIFY_TOKEN_KEY (a Fernet key) must be set outside development")
    if settings.environment != "development" and settings.s3_secret_key == DEVELOPMENT_S3_SECRET_KEY:
        raise RuntimeError("MUSEAIKA_S3_SECRET_KEY must be set outside development (MUSEAIKA_ENVIRONMENT)")


@lru_cache
def get_settings() -> Settings:
    return Settings()
