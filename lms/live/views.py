from flask import Blueprint

from lms.live import models  # noqa: F401 - registers the tables

bp = Blueprint("live", __name__, cli_group=None)
