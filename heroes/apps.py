from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class HeroesConfig(AppConfig):
    name = "heroes"
    verbose_name = "Heroes"

    def ready(self) -> None:
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_login_failed

        from heroes import logins, signals
        from heroes.models import Hero

        post_save.connect(signals.hero_saved, sender=Hero, dispatch_uid="heroes.cache.saved")
        post_delete.connect(signals.hero_deleted, sender=Hero, dispatch_uid="heroes.cache.deleted")
        # After django-axes's own receivers, so the count is known: importing axes.signals
        # above connects them first (heroes now comes first in INSTALLED_APPS).
        user_login_failed.connect(logins.login_failed, dispatch_uid="heroes.logins.failed")
        user_locked_out.connect(logins.login_locked_out, dispatch_uid="heroes.logins.locked_out")
