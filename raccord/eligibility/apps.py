from django.apps import AppConfig


class EligibilityConfig(AppConfig):
    name = "raccord.eligibility"
    label = "eligibility"
    verbose_name = "Éligibilité"
    default_auto_field = "django.db.models.BigAutoField"
