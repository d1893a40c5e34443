from django.apps import AppConfig


class ContractsConfig(AppConfig):
    name = "raccord.contracts"
    label = "contracts"
    verbose_name = "Contrats"
    default_auto_field = "django.db.models.BigAutoField"
