"""E-learning for grassroots trade-union officers."""

from pathlib import Path

from flask import Flask

from lms import config
from lms.db import commit_reads, db, init_migrate, track_engines
from lms.extensions import babel, csrf, login_manager

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application: settings, extensions, then each room in dependency order."""
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_object(config)
    app.config.from_prefixed_env("LMS")
    if test_config:
        app.config.update(test_config)

    from lms import web

    web.apply_settings(app)
    db.init_app(app)
    track_engines(app)
    commit_reads(app)
    init_migrate(app, ROOT / "migrations")
    csrf.init_app(app)
    login_manager.init_app(app)
    babel.init_app(app, locale_selector=web.select_locale, timezone_selector=web.select_timezone)
    web.init_app(app)

    from lms.catalog import blocks as catalog_blocks
    from lms.progress import services as progress_services
    from lms.quizzes import rendering as quiz_blocks

    catalog_blocks.register()
    quiz_blocks.register()
    progress_services.connect_signals()

    from lms.accounts.views import bp as accounts_bp
    from lms.authoring.quiz_editor import bp as quiz_editor_bp
    from lms.authoring.views import bp as authoring_bp
    from lms.catalog.views import bp as catalog_bp
    from lms.coverage.views import bp as coverage_bp
    from lms.discussion.views import bp as discussion_bp
    from lms.live.views import bp as live_bp
    from lms.orgs.views import bp as orgs_bp
    from lms.progress.api import bp as xapi_bp
    from lms.progress.certificates import bp as certificates_bp
    from lms.progress.staff import bp as completions_bp
    from lms.progress.views import bp as progress_bp
    from lms.quizzes.views import bp as quizzes_bp
    from lms.site.views import bp as site_bp

    for bp in (
        accounts_bp,
        orgs_bp,
        catalog_bp,
        authoring_bp,
        quiz_editor_bp,
        quizzes_bp,
        live_bp,
        discussion_bp,
        progress_bp,
        certificates_bp,
        completions_bp,
        xapi_bp,
        coverage_bp,
        site_bp,
    ):
        app.register_blueprint(bp)

    from lms import cli

    cli.init_app(app)
    return app
