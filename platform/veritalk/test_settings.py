"""Settings for the test suite: everything the tests write goes to a fresh
temporary folder (database, media, broker, signing keys)."""
import os
import tempfile

os.environ.setdefault("VERITALK_VAR_DIR", tempfile.mkdtemp(prefix="veritalk-test-"))
os.environ.setdefault("VERITALK_SIGNING_DIR", os.path.join(os.environ["VERITALK_VAR_DIR"], "signing"))
os.environ.setdefault("VERITALK_MAX_AUDIO_SECONDS", "30")

from .settings import *  # noqa: E402,F401,F403

if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":  # noqa: F405
    # A test database of this run's own: several runs may share one server.
    DATABASES["default"]["TEST"] = {"NAME": f"test_veritalk_{os.getpid()}"}  # noqa: F405

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests

# Tests share one process and one cache: throttling is tested on its own (tests/platform/test_api_tokens.py).
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"user": "1000000/minute",  # noqa: F405
                                                               "anon": "1000000/minute"}}
