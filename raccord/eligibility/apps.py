from django.apps import AppConfig


class EligibilityConfig(AppConfig):
    name = "raccord.eligibility"
    label = "eligibility"
    default_auto_field = "django.db.models.BigAutoField"
