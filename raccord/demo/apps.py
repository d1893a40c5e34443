from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "raccord.demo"
    label = "demo"
    verbose_name = "Démonstration"
    default_auto_field = "django.db.models.BigAutoField"
