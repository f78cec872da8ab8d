from flask import Blueprint

from lms.quizzes import models  # noqa: F401 - registers the tables

bp = Blueprint("quizzes", __name__, cli_group=None)
