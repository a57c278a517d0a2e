"""Settings, read from the environment (django-environ) with safe defaults:
SQLite and media under var/, an embedded Celery broker, signing keys outside
the repository."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

ROOT_DIR = Path(__file__).resolve().parents[2]
env = environ.Env()
if (ROOT_DIR / ".env").exists():
    env.read_env(str(ROOT_DIR / ".env"))

VAR_DIR = Path(env("VERITALK_VAR_DIR", default=str(ROOT_DIR / "var"))).expanduser()
VAR_DIR.mkdir(parents=True, exist_ok=True)


# VERITALK_ENV=production: secrets and hosts must come from the environment, HTTPS-only
# cookies and security headers are on, static files are served by WhiteNoise.
PRODUCTION = env("VERITALK_ENV", default="development") == "production"


def _secret_key() -> str:
    """From DJANGO_SECRET_KEY; in development only, a random key kept 0600 under var/."""
    key = env("DJANGO_SECRET_KEY", default="")
    if key:
        return key
    if PRODUCTION:
        raise ImproperlyConfigured("VERITALK_ENV=production needs DJANGO_SECRET_KEY in the environment")
    path = VAR_DIR / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env.bool("DJANGO_DEBUG", default=False) and not PRODUCTION
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[] if PRODUCTION else
                         ["localhost", "127.0.0.1", "[::1]", "testserver"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("VERITALK_ENV=production needs DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# Cookies and headers. Production assumes HTTPS (directly or behind a proxy that sets
# X-Forwarded-Proto, with VERITALK_BEHIND_PROXY=1).
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("VERITALK_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("VERITALK_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("VERITALK_HSTS_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("VERITALK_HSTS_PRELOAD", default=True)
    if env.bool("VERITALK_BEHIND_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our static files: the docs page works offline
    "accounts",
    "audit",
    "consent",
    "registry",
    "jobs",
    "moderation",
    "portal",
    "live",
]

MIDDLEWARE = [
    "veritalk.timing.ServerTimingMiddleware",
    "audit.middleware.LinkAfterResponseMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "veritalk.middleware.RequestSizeLimitMiddleware",
    "veritalk.middleware.HeavyRequestLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "veritalk.middleware.ReaderTimeZoneMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "veritalk.urls"
WSGI_APPLICATION = "veritalk.wsgi.application"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'veritalk.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and immediate transactions let the web process and a worker share the file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE",
         "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"})
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("VERITALK_DB_CONN_MAX_AGE", default=60))
# The API throttle counts live in this cache: set VERITALK_CACHE_URL (e.g. redis://127.0.0.1:6379/1)
# where several web processes must share the counts.
CACHES = {"default": env.cache("VERITALK_CACHE_URL", default="locmemcache://")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portal:dashboard"
LOGOUT_REDIRECT_URL = "login"

# E-mail (password resets, vetting decisions). EMAIL_URL (django-environ: smtp://user:pass@host:25,
# smtp+tls://...:587, smtp+ssl://...:465) sets the SMTP server. Without it, production sends
# through SMTP on localhost:25 and development writes each message to a file under var/mail/.
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Veritalk <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if env("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
elif PRODUCTION:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
PASSWORD_RESET_TIMEOUT = env.int("VERITALK_PASSWORD_RESET_SECONDS", default=3 * 24 * 3600)

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [ROOT_DIR / "platform" / "locale"]  # compiled .mo files are committed: no gettext at run time
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = not PRODUCTION  # development serves static files without collectstatic
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage" if PRODUCTION
                    else "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = Path(env("VERITALK_MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "media/"  # never served directly: outputs go through permission-checked views

# Upload limits (bytes); Django's own limit applies to the whole request body.
VERITALK_MAX_PHOTO_BYTES = env.int("VERITALK_MAX_PHOTO_BYTES", default=15 * 1024 * 1024)
VERITALK_MAX_AUDIO_BYTES = env.int("VERITALK_MAX_AUDIO_BYTES", default=40 * 1024 * 1024)
VERITALK_MAX_PHOTO_PIXELS = env.int("VERITALK_MAX_PHOTO_PIXELS", default=40_000_000)
VERITALK_MAX_AUDIO_SECONDS = env.float("VERITALK_MAX_AUDIO_SECONDS", default=120.0)
VERITALK_MAX_REQUEST_BYTES = env.int("VERITALK_MAX_REQUEST_BYTES",
                                     default=VERITALK_MAX_PHOTO_BYTES + VERITALK_MAX_AUDIO_BYTES + 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# Requests that read uploads (job submissions, face previews, verifications) run at most
# this many at a time per web process; the next ones wait up to VERITALK_WEB_HEAVY_WAIT_SECONDS
# for a slot, then get a 503 with Retry-After. The other threads stay free for reads. Measured
# (bench.load's Server-Timing split, docs/benchmarks.md): with 2 slots, 200 submissions a
# minute in bursts of 12 wait 0.2-0.7 s for a slot and meet the targets (submission p95 under
# 1 s, status under 300 ms) now that no request waits for the audit chain; 4 helped the
# submissions in one run at some cost to the reads.
VERITALK_WEB_HEAVY_CONCURRENCY = env.int("VERITALK_WEB_HEAVY_CONCURRENCY", default=2)
VERITALK_WEB_HEAVY_WAIT_SECONDS = env.float("VERITALK_WEB_HEAVY_WAIT_SECONDS", default=20.0)
# A Server-Timing header on every response (request, its CPU, database, upload-slot and
# audit-lock waits; veritalk.timing): for load
# tests and diagnosis; it tells any client how busy the server is, so off by default.
VERITALK_SERVER_TIMING = env.bool("VERITALK_SERVER_TIMING", default=False)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Signing keys live outside the repository (0600 files in a 0700 folder).
VERITALK_SIGNING_DIR = Path(env("VERITALK_SIGNING_DIR", default="~/.config/veritalk/signing")).expanduser()
VERITALK_POLICY_FILE = env("VERITALK_POLICY_FILE", default="")
# A worker renews its lease on a running job every lease/6 seconds; a job whose lease
# lapsed, or that sat queued this long without being picked up, is dispatched again.
VERITALK_JOB_LEASE_SECONDS = env.float("VERITALK_JOB_LEASE_SECONDS", default=30.0)
VERITALK_REDISPATCH_SECONDS = env.float("VERITALK_REDISPATCH_SECONDS", default=300.0)

# Celery: the embedded default is kombu's filesystem transport (no server needed).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://localhost/")
BROKER_DIR = VAR_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("queue", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    # Redis/SQS redeliver an unacknowledged message after this long: longer than any
    # job. A worker that dies is noticed sooner through its job lease (jobs.dispatch).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("VERITALK_VISIBILITY_TIMEOUT", default=4 * 3600)}
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
VERITALK_GENERATION_QUEUE = env("VERITALK_GENERATION_QUEUE", default="generation")
VERITALK_INTAKE_QUEUE = env("VERITALK_INTAKE_QUEUE", default="intake")  # face check and gate of a submission
VERITALK_GPU_QUEUE = env("VERITALK_GPU_QUEUE", default="gpu")   # backend=diffusion jobs
# Hallo's pretrained_models/ layout (hallo/net.pth, stable-diffusion-v1-5/unet, sd-vae-ft-mse,
# wav2vec/wav2vec2-base-960h, face_analysis/models); never downloaded. The next three may point elsewhere;
# empty: the face model and wav2vec2 inside that folder, and no vocal separation.
VERITALK_DIFFUSION_WEIGHTS = env("VERITALK_DIFFUSION_WEIGHTS", default="")
VERITALK_DIFFUSION_FACE_MODEL = env("VERITALK_DIFFUSION_FACE_MODEL", default="")
VERITALK_DIFFUSION_WAV2VEC = env("VERITALK_DIFFUSION_WAV2VEC", default="")
VERITALK_DIFFUSION_VOCAL_SEPARATOR = env("VERITALK_DIFFUSION_VOCAL_SEPARATOR", default="")
CELERY_TASK_DEFAULT_QUEUE = VERITALK_GENERATION_QUEUE
VERITALK_DETECTOR_MODEL = env("VERITALK_DETECTOR_MODEL", default="")  # empty: the shipped detection/models file
VERITALK_DETECTION_QUEUE = env("VERITALK_DETECTION_QUEUE", default="detection")
CELERY_TASK_ROUTES = {"jobs.generate": {"queue": VERITALK_GENERATION_QUEUE},
                      "jobs.intake": {"queue": VERITALK_INTAKE_QUEUE},
                      "jobs.reap": {"queue": VERITALK_GENERATION_QUEUE},
                      "moderation.analyse": {"queue": VERITALK_DETECTION_QUEUE}}
CELERY_BEAT_SCHEDULE = {"reap-jobs": {"task": "jobs.reap",
                                      "schedule": env.float("VERITALK_REAP_SECONDS", default=15.0)}}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BROKER_CONNECTION_MAX_RETRIES = None  # keep reconnecting through a broker restart
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

REST_FRAMEWORK = {
    # Token first: DRF takes the WWW-Authenticate challenge from the first class, so a
    # missing or invalid token is a 401 (with the first class Session it was a 403).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "veritalk.pagination.Pagination",
    "PAGE_SIZE": 25,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Per-user throttling (anonymous clients by address); rates from the environment.
    "DEFAULT_THROTTLE_CLASSES": ["veritalk.throttling.UserThrottle", "veritalk.throttling.AnonThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": env("VERITALK_API_USER_RATE", default="600/minute"),
                               "anon": env("VERITALK_API_ANON_RATE", default="60/minute")},
    "EXCEPTION_HANDLER": "veritalk.api_errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Veritalk API",
    "DESCRIPTION": "Consent-gated talking-portrait generation with provenance.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Jobs and moderation cases both have a `status` choice set: name each one.
    "ENUM_NAME_OVERRIDES": {
        "JobStatusEnum": "jobs.models.Job.Status",
        "CaseStatusEnum": "moderation.models.Case.Status",
        "VettingDecisionEnum": "accounts.models.VettingRequest.Decision",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,  # multipart uploads are described as binary files
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("VERITALK_LOG_LEVEL", default="WARNING")},
}

# C2PA signing (issue 4): `platform` signs with the init_signing chain in VERITALK_SIGNING_DIR;
# `certificate` with a deployment's own chain and key; `callback` with a deployment's chain and
# a function "module:name" that signs bytes through an HSM or a cloud KMS (no key on disk).
VERITALK_C2PA_SIGNER = env("VERITALK_C2PA_SIGNER", default="platform")
VERITALK_C2PA_CERT_CHAIN = env("VERITALK_C2PA_CERT_CHAIN", default="")
VERITALK_C2PA_KEY = env("VERITALK_C2PA_KEY", default="")
VERITALK_C2PA_SIGN_CALLBACK = env("VERITALK_C2PA_SIGN_CALLBACK", default="")
VERITALK_C2PA_ALG = env("VERITALK_C2PA_ALG", default="es256")
VERITALK_C2PA_TSA_URL = env("VERITALK_C2PA_TSA_URL", default="") or None
VERITALK_C2PA_TRUST_ANCHORS = env("VERITALK_C2PA_TRUST_ANCHORS", default="")  # extra CA PEM file for verify

# Live sessions (issue 19): served over WebSocket by the ASGI application (`live` in the
# Procfile, uvicorn), one engine thread per session. The channel layer carries stop and
# take-down requests to the process streaming a session: in memory by default (one
# process), Redis (channels-redis) where web and live processes are separate.
ASGI_APPLICATION = "veritalk.asgi.application"
VERITALK_CHANNEL_LAYER_URL = env("VERITALK_CHANNEL_LAYER_URL", default="")
CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                              "CONFIG": {"hosts": [VERITALK_CHANNEL_LAYER_URL]}}
                  if VERITALK_CHANNEL_LAYER_URL else {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
VERITALK_LIVE_MAX_SECONDS = env.float("VERITALK_LIVE_MAX_SECONDS", default=900.0)
VERITALK_LIVE_MAX_PER_CREATOR = env.int("VERITALK_LIVE_MAX_PER_CREATOR", default=2)
VERITALK_LIVE_MAX_PER_PROCESS = env.int("VERITALK_LIVE_MAX_PER_PROCESS", default=2)
VERITALK_LIVE_RECHECK_SECONDS = env.float("VERITALK_LIVE_RECHECK_SECONDS", default=0.5)
VERITALK_LIVE_CONNECT_SECONDS = env.float("VERITALK_LIVE_CONNECT_SECONDS", default=120.0)
