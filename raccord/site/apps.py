from django.apps import AppConfig


class SiteConfig(AppConfig):
    name = "raccord.site"
    label = "site"
    verbose_name = "Site public"
    default_auto_field = "django.db.models.BigAutoField"
