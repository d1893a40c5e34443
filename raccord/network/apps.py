from django.apps import AppConfig


class NetworkConfig(AppConfig):
    name = "raccord.network"
    label = "network"
    verbose_name = "Réseau"
    default_auto_field = "django.db.models.BigAutoField"
