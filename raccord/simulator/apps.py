from django.apps import AppConfig


class SimulatorConfig(AppConfig):
    name = "raccord.simulator"
    label = "simulator"
    verbose_name = "Simulateur"
    default_auto_field = "django.db.models.BigAutoField"
