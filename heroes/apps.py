from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class HeroesConfig(AppConfig):
    name = "heroes"
    verbose_name = "Heroes"

    def ready(self) -> None:
        from heroes import signals
        from heroes.models import Hero

        post_save.connect(signals.hero_saved, sender=Hero, dispatch_uid="heroes.cache.saved")
        post_delete.connect(signals.hero_deleted, sender=Hero, dispatch_uid="heroes.cache.deleted")
