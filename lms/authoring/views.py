from flask import Blueprint

from lms.authoring import models  # noqa: F401 - registers the tables

bp = Blueprint("authoring", __name__, cli_group=None)
