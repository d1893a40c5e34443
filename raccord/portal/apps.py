from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "raccord.portal"
    label = "portal"
    verbose_name = "Mon Compte"
    default_auto_field = "django.db.models.BigAutoField"
