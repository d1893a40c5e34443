from django.apps import AppConfig


class SiteConfig(AppConfig):
    name = "raccord.site"
    label = "site"
    default_auto_field = "django.db.models.BigAutoField"
