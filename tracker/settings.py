"""Settings for the Online Safety Act tracker.

Everything a deployment changes comes from the environment (see README). Without any environment
the project runs on embedded defaults: a SQLite file, a file-system Celery broker and e-mails
written to files, all under var/.
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from tracker.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DJANGO_DEBUG", default=False)

# SECRET_KEY, or SECRET_KEY_FILE naming a file that holds it (`make run` keeps one in var/).
SECRET_KEY = env_str("SECRET_KEY")
_secret_key_file = env_str("SECRET_KEY_FILE")
if not SECRET_KEY and _secret_key_file:
    try:
        SECRET_KEY = Path(_secret_key_file).read_text().strip()
    except OSError as error:
        raise ImproperlyConfigured(f"SECRET_KEY_FILE cannot be read: {error}") from None
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment (DJANGO_DEBUG=true allows a "
            "development key)."
        )
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "import_export",
    "axes",
    "regulation",
    "tracker",
]

# Logins: django-axes locks out a user name and, separately, an address after
# AXES_FAILURE_LIMIT failed attempts, for AXES_COOLOFF_HOURS (reset: manage.py axes_reset).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(hours=env_int("AXES_COOLOFF_HOURS", 1, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
# Lockouts are listed and lifted from the command line (axes_list_attempts, axes_reset), not in
# the admin, where axes' own pages would be writable screens outside the staff permission rules.
AXES_ENABLE_ADMIN = False
# No banner on every manage.py command; failed logins and lockouts are still logged.
AXES_VERBOSE = False

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as axes' documentation asks: it turns a lockout into the lockout response.
    "axes.middleware.AxesMiddleware",
]

# Content-Security-Policy (django-csp): scripts and styles only from our own static files, so a
# stored URL or text that slipped into a page cannot run as script. The admin needs no more.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

ROOT_URLCONF = "tracker.urls"
WSGI_APPLICATION = "tracker.wsgi.application"
ASGI_APPLICATION = "tracker.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# SQLite under var/ unless DATABASE_URL names another database (postgres://... in production).
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'tracker.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0, minimum=0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web threads, worker and beat share one file. WAL lets readers go on while one writer
    # writes. IMMEDIATE takes the write lock when a transaction begins: a deferred transaction
    # that read first and then writes cannot wait for the lock (SQLite answers "database is
    # locked" at once, whatever the timeout), an immediate one waits up to the busy timeout.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            # "timeout" is the busy timeout (seconds): sqlite3.connect applies it to every
            # connection. NORMAL is durable enough under WAL and spares a sync per commit.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        }
    )
    if not env_str("DATABASE_URL"):
        VAR_DIR.mkdir(parents=True, exist_ok=True)  # SQLite makes the file, not its folder

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# E-mail: files under var/mail by default, so a person can read what would have been sent.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
# Seconds an SMTP conversation may wait on the server: a hung server must not hold a worker.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Online Safety Act tracker <tracker@localhost>")

# Celery: a broker that needs no server (files under var/broker) unless CELERY_BROKER_URL is set.
# (The host part means nothing to this transport; naming it keeps kombu from warning.)
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or "filesystem://localhost/"

# A task may run for CELERY_TASK_TIME_LIMIT seconds before the worker kills it.
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 60, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 5 * 60, minimum=1)
if CELERY_TASK_SOFT_TIME_LIMIT >= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured("CELERY_TASK_SOFT_TIME_LIMIT must be below CELERY_TASK_TIME_LIMIT")
# Redis hands a task that no worker acknowledged within the visibility timeout to another worker:
# that is how a task outlives a worker killed with -9. It must be longer than the hard time limit,
# or a task still running would be given to a second worker too; a minute's margin is enough.
# Every worker sweeps the whole Redis database with its own timeout: give all workers on one
# Redis database the same setting.
# (Lower-case names: Celery reads every CELERY_* setting as one of its own.)
_visibility_timeout = env_int("CELERY_VISIBILITY_TIMEOUT", CELERY_TASK_TIME_LIMIT + 60, minimum=1)
if _visibility_timeout <= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured(
        "CELERY_VISIBILITY_TIMEOUT must be longer than CELERY_TASK_TIME_LIMIT "
        f"({_visibility_timeout} <= {CELERY_TASK_TIME_LIMIT}), "
        "or a running task would be handed to a second worker"
    )
# How long publishing may wait on each attempt to reach the broker (seconds); with the retry policy
# below, a broker that accepts connections but never answers fails a publish in a few seconds
# instead of blocking the request that queued it for minutes.
_broker_timeout = env_int("CELERY_BROKER_TIMEOUT", 2, minimum=1)
CELERY_BROKER_CONNECTION_TIMEOUT = _broker_timeout
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 0.5,
}

if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
    # The transport neither creates its folders nor waits for them: web, worker and beat each
    # import these settings, so whichever starts first makes them (a fresh clone has no var/).
    for _folder in ("processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # (RabbitMQ needs none of these: it redelivers a dead worker's tasks when its connection drops.)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": _visibility_timeout,
        # Workers look for tasks past their visibility timeout every 10 s (kombu's
        # default is every 100 s), so a dead worker's task is back within the timeout + 10 s.
        "unacked_restore_interval": 10,
        "unacked_restore_throttle": 1,
        "socket_timeout": _broker_timeout,
        "socket_connect_timeout": _broker_timeout,
        # kombu reads this when it opens a connection to publish: one retry, then give up.
        "max_retries": CELERY_TASK_PUBLISH_RETRY_POLICY["max_retries"],
    }
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "tracker")
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
# A task is acknowledged when it has finished, not when it starts, and a task whose pool process
# died (kill -9, out of memory) is handed back to the broker rather than acknowledged as failed:
# tasks must therefore be safe to run twice.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")


# The reminder planner's recorded runs are the proof of life now (see /healthz); the heartbeat
# task stays for anyone who queues it by hand, and its old rows are still pruned.
CELERY_BEAT_SCHEDULE = {
    "prune-heartbeats": {"task": "tracker.tasks.prune_heartbeats", "schedule": 60 * 60},
    "check-published-sources": {
        "task": "tracker.tasks.check_published_sources",
        "schedule": 60 * 60,
    },
}
# Heartbeats older than this many days are deleted every hour.
HEARTBEAT_RETENTION_DAYS = env_int("HEARTBEAT_RETENTION_DAYS", 7, minimum=1)
# The follow-up dashboard flags open commitments with no review date and no news for this long.
FOLLOW_UP_QUIET_DAYS = env_int("FOLLOW_UP_QUIET_DAYS", 90, minimum=1)

# Bulk import and export in the admin (regulation/admin_io.py). An import runs in one transaction
# and is rolled back whole if any row fails; importing needs the add permission (and a row that
# changes a saved record the change permission), exporting the view permission.
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
# The file waits between the preview and the confirmation in the machine's temp folder, so both
# requests must reach the same machine (any of its web processes).
IMPORT_EXPORT_TMP_STORAGE_CLASS = "regulation.admin_io.ImportFileStorage"

# The API (regulation/api/, at /api/v1/): public reads, token writes (django-rest-knox: tokens
# stored hashed, expiring, revocable in the admin under "Auth tokens").
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "regulation.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["regulation.api.permissions.ReadOrModelPermissions"],
    "DEFAULT_PAGINATION_CLASS": "regulation.api.pagination.RecordPagination",
    "DEFAULT_THROTTLE_CLASSES": [
        "regulation.api.permissions.AnonymousThrottle",
        "regulation.api.permissions.TokenThrottle",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "regulation.api.views.api_exception_handler",
    "PAGE_SIZE": 50,
}
API_PAGE_SIZE = env_int("API_PAGE_SIZE", 50, minimum=1)
API_MAX_PAGE_SIZE = env_int("API_MAX_PAGE_SIZE", 200, minimum=1)
# Requests per client address (anonymous) and per token's user, e.g. "120/minute".
API_THROTTLE_RATES = {
    "anonymous": env_str("API_ANONYMOUS_RATE", "120/minute"),
    "token": env_str("API_TOKEN_RATE", "600/minute"),
}
# Resources other apps mount under /api/v1/, linked from the API's root beside the knowledge
# base's own (name → URL name).
API_ROOT_LINKS = {"webhooks": "webhook-list"}
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=env_int("API_TOKEN_DAYS", 90, minimum=1)),
    "AUTO_REFRESH": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Online Safety Act tracker API",
    "DESCRIPTION": (
        "The UK Online Safety Act's timeline, Ofcom's code measures, platform commitments and "
        "statistics, each with its sources. Reads of published records need no key; writes "
        "need a token (`Authorization: Token <token>`)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "regulation.api.schema.add_error_responses",
    ],
    # One name per set of choices, so a client generator makes one type for each.
    "ENUM_NAME_OVERRIDES": {
        "PrecisionEnum": "regulation.dates.Precision",
        "CertaintyEnum": "regulation.dates.Certainty",
        "RecordStatusEnum": "regulation.models.Status",
        "VerificationEnum": "regulation.models.Verification",
        "DeliveryStatusEnum": "regulation.models.DeliveryStatus",
        "UnitEnum": "regulation.models.Unit",
        "OrganisationKindEnum": "regulation.models.OrganisationKind",
        "PlatformKindEnum": "regulation.models.PlatformKind",
        "SourceKindEnum": "regulation.models.SourceKind",
        "SourceOriginEnum": "regulation.models.SourceOrigin",
        "InstrumentKindEnum": "regulation.models.InstrumentKind",
        "InstrumentStageEnum": "regulation.models.InstrumentStage",
        "MilestoneKindEnum": "regulation.models.MilestoneKind",
        "WebhookEventTypeEnum": "tracker.webhooks.models.EventType",
        "WebhookDeliveryStateEnum": "tracker.webhooks.models.DeliveryState",
    },
}

# HTTPS: everything on by default whenever DEBUG is off, each switchable from the environment.
# `make run` serves plain http on 127.0.0.1 and turns them off; production behind TLS keeps them.
_HTTPS = not DEBUG
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=_HTTPS)
# A load balancer's health probe often speaks plain http to the web process.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600 if _HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=_HTTPS)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=_HTTPS)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=_HTTPS)
CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=_HTTPS)
# Behind a proxy that terminates TLS, e.g. "HTTP_X_FORWARDED_PROTO,https". Unset by default:
# trusting the header when no proxy strips it would let any client claim https.
_proxy_ssl_header = env_list("SECURE_PROXY_SSL_HEADER", [])
if _proxy_ssl_header and len(_proxy_ssl_header) != 2:
    raise ImproperlyConfigured(
        f"SECURE_PROXY_SSL_HEADER must be 'HEADER,value', not {','.join(_proxy_ssl_header)!r}"
    )
SECURE_PROXY_SSL_HEADER = tuple(_proxy_ssl_header) if _proxy_ssl_header else None

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # Django's own console handler (DEBUG only) would print every django.* line a second time.
    "loggers": {"django": {"handlers": [], "propagate": True}},
}

# Reminders (tracker/planner.py, tracker/sender.py; README "Reminders").
# The public address of the site, for the links in e-mails (no trailing slash).
SITE_URL = (env_str("SITE_URL") or "http://127.0.0.1:8000").rstrip("/")
# A reminder for a day goes out at this hour, local time in Europe/London (0-23).
REMINDER_SEND_HOUR = env_int("REMINDER_SEND_HOUR", 9, minimum=0)
if REMINDER_SEND_HOUR > 23:
    raise ImproperlyConfigured("REMINDER_SEND_HOUR must be an hour of the day, 0 to 23")
# A reminder whose moment passed more than this many days ago is skipped, not sent late
# (no "30 days to go" after the deadline); within it, downtime makes a reminder late, never lost.
REMINDER_GRACE_DAYS = env_int("REMINDER_GRACE_DAYS", 2, minimum=0)
# A row a sender claimed and did not finish within this many seconds goes back to pending.
# Longer than the task time limit: by the time a lease runs out its sender has been stopped for
# good, so no row goes back to pending while a live sender may still send it.
REMINDER_LEASE_SECONDS = env_int("REMINDER_LEASE_SECONDS", 10 * 60, minimum=30)
if REMINDER_LEASE_SECONDS <= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured(
        "REMINDER_LEASE_SECONDS must be longer than CELERY_TASK_TIME_LIMIT "
        f"({REMINDER_LEASE_SECONDS} <= {CELERY_TASK_TIME_LIMIT}), "
        "or a sender still running could have its reminders sent by another"
    )
# Subscribers per send task (one SMTP connection each), attempts before a reminder fails.
REMINDER_BATCH_SIZE = env_int("REMINDER_BATCH_SIZE", 200, minimum=1)
REMINDER_MAX_ATTEMPTS = env_int("REMINDER_MAX_ATTEMPTS", 8, minimum=1)
# First retry after about this many seconds, doubling each attempt (with jitter).
REMINDER_RETRY_SECONDS = env_int("REMINDER_RETRY_SECONDS", 60, minimum=1)
# Sent and cancelled reminders, and planner runs, are deleted after this many days.
REMINDER_RETENTION_DAYS = env_int("REMINDER_RETENTION_DAYS", 90, minimum=REMINDER_GRACE_DAYS + 1)
PLANNER_SECONDS = env_int("PLANNER_SECONDS", 60, minimum=10)
CELERY_BEAT_SCHEDULE |= {
    "plan-reminders": {"task": "tracker.tasks.plan_reminders", "schedule": PLANNER_SECONDS},
    "prune-reminders": {"task": "tracker.tasks.prune_reminders", "schedule": 60 * 60},
}
# Subscribing is limited per hour, per address (nothing more is sent to it) and per client.
SUBSCRIBE_LIMIT_PER_ADDRESS = env_int("SUBSCRIBE_LIMIT_PER_ADDRESS", 3, minimum=1)
SUBSCRIBE_LIMIT_PER_CLIENT = env_int("SUBSCRIBE_LIMIT_PER_CLIENT", 20, minimum=1)
# The rate limits live in the cache: set CACHE_URL (redis://...) when several web processes
# run, so they share one count; without it each process counts on its own (local memory).
_cache_url = env_str("CACHE_URL")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _cache_url}
    if _cache_url
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # The API's answers to anonymous GETs, by ETag (regulation/api/caching.py). Always in the
    # web process's own memory, so what clients can make it hold is bounded: at most 50
    # answers of at most 512 kB each. (Shared, every address a client invents would be kept.)
    "api": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "api-answers",
        "OPTIONS": {"MAX_ENTRIES": 50},
    },
}
# Seconds an API answer is kept for the next anonymous client asking the same thing while the
# data stays the same; 0 builds every answer. A change to the data never serves a kept answer.
API_ANSWER_SECONDS = env_int("API_ANSWER_SECONDS", 300, minimum=0)

# Webhooks (tracker/webhooks/; README "Webhooks"). The dispatcher runs every
# WEBHOOK_DISPATCH_SECONDS: it releases claims past WEBHOOK_LEASE_SECONDS, writes the
# milestone.reached events and queues up to WEBHOOK_DISPATCH_LIMIT due deliveries.
WEBHOOK_DISPATCH_SECONDS = env_int("WEBHOOK_DISPATCH_SECONDS", 15, minimum=1)
WEBHOOK_DISPATCH_LIMIT = env_int("WEBHOOK_DISPATCH_LIMIT", 1000, minimum=1)
WEBHOOK_LEASE_SECONDS = env_int("WEBHOOK_LEASE_SECONDS", 5 * 60, minimum=1)
# A queued delivery whose task has not run after this long is queued again (its broker lost it).
WEBHOOK_REQUEUE_SECONDS = env_int("WEBHOOK_REQUEUE_SECONDS", 5 * 60, minimum=1)
# At most this many deliveries in flight per endpoint: a slow receiver holds up no one else.
WEBHOOK_MAX_SENDING_PER_ENDPOINT = env_int("WEBHOOK_MAX_SENDING_PER_ENDPOINT", 4, minimum=1)
# Retries: about WEBHOOK_RETRY_SECONDS, doubling with jitter, each wait at most
# WEBHOOK_MAX_RETRY_WAIT_SECONDS, for WEBHOOK_RETRY_HOURS after the event.
WEBHOOK_RETRY_SECONDS = env_int("WEBHOOK_RETRY_SECONDS", 30, minimum=1)
WEBHOOK_MAX_RETRY_WAIT_SECONDS = env_int("WEBHOOK_MAX_RETRY_WAIT_SECONDS", 6 * 3600, minimum=1)
WEBHOOK_RETRY_HOURS = env_int("WEBHOOK_RETRY_HOURS", 72, minimum=1)
# An endpoint whose attempts all failed, at least this many in a row over at least this many
# hours, is disabled and its owner e-mailed.
WEBHOOK_DISABLE_AFTER_FAILURES = env_int("WEBHOOK_DISABLE_AFTER_FAILURES", 10, minimum=1)
WEBHOOK_DISABLE_AFTER_HOURS = env_int("WEBHOOK_DISABLE_AFTER_HOURS", 24, minimum=0)
# After a rotation, the previous secret signs too for this many hours.
WEBHOOK_SECRET_GRACE_HOURS = env_int("WEBHOOK_SECRET_GRACE_HOURS", 24, minimum=0)
# milestone.reached is announced up to this many days late (after downtime), never later.
WEBHOOK_REACHED_GRACE_DAYS = env_int("WEBHOOK_REACHED_GRACE_DAYS", 2, minimum=0)
# /healthz answers 503 when a due delivery has waited longer than this many seconds.
WEBHOOK_BACKLOG_STALE_SECONDS = env_int("WEBHOOK_BACKLOG_STALE_SECONDS", 15 * 60, minimum=1)
CELERY_BEAT_SCHEDULE |= {
    "dispatch-webhooks": {
        "task": "tracker.webhooks.tasks.dispatch_webhooks",
        "schedule": WEBHOOK_DISPATCH_SECONDS,
    },
}

# Webhook deliveries (tracker/webhooks/transport.py). Endpoints must be https and reach only public
# internet addresses; allowing loopback (plain http to 127.0.0.1, ::1 and localhost included) is
# for tests and local development only, never for production.
WEBHOOK_ALLOW_LOOPBACK = env_bool("WEBHOOK_ALLOW_LOOPBACK", default=False)
# Seconds one delivery may take overall: resolving, connecting, sending and reading the answer.
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10, minimum=1)
if WEBHOOK_TIMEOUT_SECONDS >= CELERY_TASK_SOFT_TIME_LIMIT:
    raise ImproperlyConfigured(
        "WEBHOOK_TIMEOUT_SECONDS must be less than CELERY_TASK_SOFT_TIME_LIMIT "
        f"({CELERY_TASK_SOFT_TIME_LIMIT}), so a delivery ends before its task is interrupted"
    )
# Bytes of an endpoint's answer that are read (and kept for the delivery log); the rest is dropped.
WEBHOOK_MAX_RESPONSE_BYTES = env_int("WEBHOOK_MAX_RESPONSE_BYTES", 64 * 1024, minimum=0)
