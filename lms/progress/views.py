from flask import Blueprint

from lms.progress import models  # noqa: F401 - registers the tables

bp = Blueprint("progress", __name__, cli_group=None)
