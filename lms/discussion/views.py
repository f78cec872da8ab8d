from flask import Blueprint

from lms.discussion import models  # noqa: F401 - registers the tables

bp = Blueprint("discussion", __name__, cli_group=None)
