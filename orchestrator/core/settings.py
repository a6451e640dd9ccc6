"""All orchestrator settings, read from the environment (prefix MUSEAIKA_)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from archives.served import served_default_versions

REPO_ROOT = Path(__file__).resolve().parents[2]
DEVELOPMENT_SECRET = "development-only-secret-change-me"  # nosec B105  # refused outside development
DEVELOPMENT_S3_SECRET_KEY = "museaika-secret"  # nosec B105  # refused outside development


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MUSEAIKA_", env_file=".env", extra="ignore")

    # Inference: "embedded" runs the handlers in this process; "torchserve" calls TorchServe over HTTP.
    inference_backend: Literal["embedded", "torchserve"] = Field(
        default="embedded",
        description="embedded runs the model archives in this process; torchserve calls TorchServe over HTTP")
    torchserve_inference_url: str = Field(
        default="http://127.0.0.1:8080", description="TorchServe inference API, for models not in TORCHSERVE_ENDPOINTS")
    torchserve_management_url: str = Field(
        default="http://127.0.0.1:8081", description="TorchServe management API (python -m modelops, readiness)")
    # Several TorchServe hosts: per model, inference URLs to spread requests over (JSON, e.g.
    # {"emotion": ["http://ts-a:8080", "http://ts-b:8080"]}); a model not named uses TORCHSERVE_INFERENCE_URL.
    torchserve_endpoints: dict[str, list[str]] = Field(
        default={}, description="per model, inference URLs to spread requests over round-robin (JSON)")
    torchserve_cooldown_s: float = Field(default=5.0, gt=0, description="a failing host sits out this long")
    # TorchServe's keys (key_file.json) when token authorization is on, as in docker/.
    torchserve_inference_token: str | None = Field(
        default=None, description="TorchServe inference key when token authorization is on")
    torchserve_management_token: str | None = Field(
        default=None, description="TorchServe management key when token authorization is on")
    torchserve_key_file: Path | None = Field(
        default=None, description="TorchServe's key_file.json; read at start and again when a key is refused")
    model_store: Path = Field(default=REPO_ROOT / "model_store", description="directory of the .mar archives")
    torchserve_config: Path = Field(
        default=REPO_ROOT / "config" / "torchserve.properties",
        description="TorchServe properties; the embedded backend reads each model's batching from it")
    embedded_work_dir: Path = Field(
        default=REPO_ROOT / "runtime" / "embedded", description="where the embedded backend extracts archives")
    inference_timeout_s: float = Field(default=30.0, description="longest wait for one whole inference call")
    models: list[str] = Field(default=["emotion", "sentiment"], description="models the API serves")
    track_mood_model: Path = Field(default=REPO_ROOT / "models" / "track-moods" / "model.json",
                                   description="the track-mood model that places catalog tracks among moods")
    # Which archive version each model serves (model_store/<name>-<version>.mar; 1.0.0 is <name>.mar); a model
    # not named serves 1.0.0. {"emotion": "1.0.0"} rolls back to fer's mini-Xception. Answers carry the version
    # that produced them. On TorchServe the launcher loads these; `python -m modelops` switches live.
    model_versions: dict[str, str] = Field(
        default_factory=served_default_versions, description="default: each model's `default` in config/models.yaml")

    mongo_url: str = Field(default="mongodb://127.0.0.1:27017", description="MongoDB connection URL")
    mongo_database: str = Field(default="museaika", description="database name")
    mongo_timeout_ms: int = Field(default=2000, description="MongoDB server selection and connect timeout")

    # Generation jobs: a Redis-backed queue, results in S3-compatible object storage.
    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0",
        description="Redis for the job queue, progress events, rate limits and Spotify login state")
    s3_endpoint: str = Field(default="127.0.0.1:9000", description="S3-compatible object storage, host:port")
    s3_access_key: str = Field(default="museaika", description="S3 access key")
    s3_secret_key: str = Field(
        default=DEVELOPMENT_S3_SECRET_KEY, description="S3 secret key; required outside development")
    s3_secure: bool = Field(default=False, description="use HTTPS to S3")
    s3_region: str = Field(default="us-east-1", description="S3 region")
    s3_bucket: str = Field(default="museaika", description="bucket for generated melodies")
    # Links to generated files: anyone holding one can download until it expires, so they are short-lived
    # (SigV4 would allow 7 days; a day at most here).
    presigned_url_ttl_s: int = Field(
        default=3600, gt=0, le=24 * 3600, description="lifetime of download links to generated files (at most a day)")
    # The generation worker (python -m orchestrator.melodies.worker): the models it serves itself, how many
    # jobs it runs at once, and when a job counts as lost (no heartbeat) and is retried.
    worker_models: list[str] = Field(default=["melody"], description="models the generation worker serves itself")
    worker_concurrency: int = Field(default=2, ge=1, description="jobs one worker runs at once")
    job_heartbeat_s: int = Field(default=15, ge=1, description="a running job silent this long is retried")
    job_timeout_s: int = Field(default=300, ge=1, description="longest run of one job attempt")
    # A job whose dependency (S3, a model server) is down is retried with exponential backoff (saq: full jitter,
    # each delay up to retry_delay_s · 2^attempt, capped): 6 attempts ride out an outage of about half a minute
    # on average, a minute at most, before the job fails with its reason (and can still be retried by the user).
    job_retries: int = Field(default=6, ge=1, description="attempts in all, the first included")
    job_retry_delay_s: float = Field(
        default=2.0, ge=0, description="base of the exponential backoff between attempts (full jitter)")
    job_retry_max_delay_s: float = Field(default=30.0, gt=0, description="cap on one backoff delay")
    job_sweep_interval_s: int = Field(default=2, ge=1, description="how often lost jobs are looked for")
    max_active_jobs_per_user: int = Field(default=5, ge=1, description="queued + running; more is a 429")

    # Spotify (authorization code + PKCE; no client secret is needed or kept). Unset client id → the
    # Spotify endpoints answer 501 and recommendations come from the catalog alone.
    spotify_client_id: str | None = Field(
        default=None,
        description="Spotify app client id; unset: the Spotify endpoints answer 501, recommendations use the catalog")
    spotify_redirect_uri: str = Field(
        default="http://127.0.0.1:8000/v1/spotify/callback", description="must match the app's redirect URI exactly")
    spotify_accounts_url: str = Field(default="https://accounts.spotify.com", description="Spotify Accounts service")
    spotify_api_url: str = Field(default="https://api.spotify.com/v1/", description="Spotify Web API")
    spotify_scopes: list[str] = Field(
        default=["user-library-read", "user-top-read", "playlist-modify-private"],
        description="scopes asked for when linking")
    # Fernet key for tokens at rest; required outside development. Secrets are SecretStr: a repr or log of the
    # settings shows '**********'.
    spotify_token_key: SecretStr | None = Field(
        default=None, description="Fernet key sealing Spotify tokens at rest; required outside development")
    spotify_timeout_s: float = Field(default=5.0, gt=0, description="connect and per-read timeout for Spotify calls")
    spotify_max_wait_s: float = Field(default=3.0, ge=0, description="longest Retry-After we wait out")
    # Only apps created before 2024-11-27 still have GET /recommendations; never needed.
    spotify_use_recommendations_endpoint: bool = Field(
        default=False, description="call GET /recommendations (only apps created before 2024-11-27)")

    max_upload_bytes: int = Field(default=10 * 1024 * 1024, gt=0, description="largest image upload (413 above)")
    max_image_pixels: int = Field(
        default=40_000_000, gt=0, description="most pixels in an image, checked before decoding (413 above)")
    max_text_chars: int = Field(default=5000, gt=0, description="longest text (413 above)")
    # Languages the served text model understands ("*" for a multilingual model).
    text_languages: list[str] = Field(
        default=["en"],
        description="languages the text model understands (JSON list; [\"*\"] for a multilingual model)")
    retry_after_s: int = Field(default=5, description="Retry-After sent with 503s")

    # Timeouts on outbound calls: a dependency that stops answering (hung, frozen, cut off) costs a call at
    # most about this long, then a 503 with Retry-After; a refused connection fails at once. The others:
    # MONGO_TIMEOUT_MS (server selection and connect), INFERENCE_TIMEOUT_S (a whole TorchServe call),
    # SPOTIFY_TIMEOUT_S (connect, and each read). docs/fault_injection.md measures them.
    mongo_socket_timeout_ms: int = Field(default=10_000, gt=0, description="waiting for one MongoDB reply")
    redis_connect_timeout_s: float = Field(default=2.0, gt=0, description="connecting to Redis")
    redis_socket_timeout_s: float = Field(default=5.0, gt=0, description="waiting for one Redis reply")
    s3_connect_timeout_s: float = Field(default=2.0, gt=0, description="connecting to S3")
    s3_read_timeout_s: float = Field(default=3.0, gt=0, description="waiting for each chunk of an S3 answer")
    torchserve_connect_timeout_s: float = Field(default=2.0, gt=0, description="connecting to TorchServe")
    readiness_timeout_s: float = Field(default=3.0, gt=0, description="each dependency's check in /readyz")

    # Accounts. Outside development the app refuses to start with the default secret.
    environment: Literal["development", "production"] = Field(
        default="development", description="development or production; production refuses default secrets")
    jwt_secret: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_SECRET),
        description="signs access tokens; at least 32 characters, required outside development")
    access_token_ttl_s: int = Field(default=900, gt=0, description="access token lifetime")
    refresh_token_ttl_s: int = Field(default=30 * 24 * 3600, gt=0, description="refresh token lifetime")
    allow_anonymous_moods: bool = Field(default=True, description="false: mood calls need a token")
    login_failures_per_email: str = Field(
        default="5/minute", description="failed logins allowed per email before a 429")
    login_failures_per_client: str = Field(default="50/minute", description="failed logins allowed per client address")
    cors_origins: list[str] = Field(default=[], description="origins allowed by CORS (JSON list)")
    # The public URL is https (TLS here or at a proxy): browsers are told to use nothing else (HSTS).
    served_over_https: bool = Field(default=False, description="the public URL is https: send HSTS")
    max_json_bytes: int = Field(default=256 * 1024, gt=0, description="largest JSON body (413 above)")
    log_level: str = Field(default="INFO", description="log level of the JSON logs")

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
    rate_limit_enabled: bool = Field(default=True, description="turn the rate limits on or off")
    rate_limit_per_ip: str = Field(default="600/minute", description="every request, per client address")
    rate_limit_per_user: str = Field(default="300/minute", description="every request with a valid token, per user")
    rate_limit_costly: str = Field(
        default="60/minute", description="inference, melody jobs and Spotify writes, per user (else per address)")
    rate_limit_costly_per_ip: str = Field(
        default="180/minute", description="costly routes per address, however many accounts it uses")
    rate_limit_auth_per_ip: str = Field(default="30/minute", description="sign-up, login and refresh per address")
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
