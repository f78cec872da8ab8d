"""Default settings; create_app() overrides them from LMS_* environment variables."""

from datetime import timedelta

DEFAULT_SECRET_KEY = "dev-only-insecure-key"  # noqa: S105 - refused outside debug/testing

# A development key is acceptable only in debug or testing; see lms.check_secret_key.
SECRET_KEY = DEFAULT_SECRET_KEY
DATABASE_URL = None  # None: a SQLite file under the instance folder
BASE_URL = "http://127.0.0.1:5000"
SUPPORT_CONTACT = ""
SMTP_URL = ""
MAIL_FROM = ""
TRUSTED_PROXIES = 0
# How long a request waits for a database lock before it gives up with a 503.
DATABASE_LOCK_TIMEOUT_MS = 5000

# Cookies: secure by default; `make run` turns this off to serve the demo over plain http.
SECURE_COOKIES = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
PERMANENT_SESSION_LIFETIME = timedelta(days=14)
# The cookie is re-sent when its content changes or when the server-side session's last-seen
# time is moved on (hourly, lms.accounts.views), not signed again on every page.
SESSION_REFRESH_EACH_REQUEST = False
REMEMBER_COOKIE_DURATION = timedelta(days=14)
REMEMBER_COOKIE_HTTPONLY = True
REMEMBER_COOKIE_SAMESITE = "Lax"
# A server-side session unused for this long is ended.
SESSION_IDLE_DAYS = 14

# Bound to the session rather than a clock, so a long quiz or edit is never rejected (CSRF-04).
WTF_CSRF_TIME_LIMIT = None
# Long lessons must save: form fields up to 2 MB, whole requests up to 25 MB (uploads).
MAX_FORM_MEMORY_SIZE = 2 * 1024 * 1024
MAX_CONTENT_LENGTH = 25 * 1024 * 1024

BABEL_DEFAULT_LOCALE = "vi"
BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
LANGUAGES = ("vi", "en")

# Login throttling (counted in the database so it holds across worker processes).
LOGIN_WINDOW_SECONDS = 15 * 60
LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_IP = 5
LOGIN_MAX_FAILURES_PER_ACCOUNT = 20
# High on purpose: a mobile carrier's NAT puts a whole district behind one address.
LOGIN_MAX_FAILURES_PER_IP = 200

# argon2id cost; tests lower it (argon2 default: t=3, m=64 MiB, p=4).
ARGON2_TIME_COST = 3
ARGON2_MEMORY_COST = 65536
ARGON2_PARALLELISM = 4

LIVE_ALLOWED_HOSTS = ""
JITSI_DOMAIN = "meet.jit.si"
JITSI_APP_ID = ""
JITSI_APP_SECRET = ""
JITSI_AUDIENCE = "jitsi"
JITSI_TOKEN_MINUTES = 180

PAGE_SIZE = 50

# Benchmarks only: count SQL statements per request into the X-SQL-Statements header.
COUNT_SQL = False

# Lesson images: at most this many bytes each; stored in UPLOAD_FOLDER (default instance/uploads).
UPLOAD_MAX_BYTES = 2 * 1024 * 1024
UPLOAD_FOLDER = ""

# Invitations and reset links: days before a link or slip code expires; wrong codes allowed per
# address within LOGIN_WINDOW_SECONDS before /invite answers 429.
INVITATION_DAYS = 14
INVITE_CODE_MAX_FAILURES = 10
# Roster files kept between the preview and "apply" (default instance/roster-uploads).
ROSTER_UPLOAD_FOLDER = ""
