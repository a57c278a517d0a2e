"""The platform fixtures apply here too (users, subjects, isolated media)."""
from tests.platform.conftest import *  # noqa: F401,F403
