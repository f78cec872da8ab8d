from flask import Blueprint

from lms.catalog import models  # noqa: F401 - registers the tables

bp = Blueprint("catalog", __name__, cli_group=None)
