from django.apps import AppConfig


class EquipmentConfig(AppConfig):
    name = "raccord.equipment"
    label = "equipment"
    verbose_name = "Matériel"
    default_auto_field = "django.db.models.BigAutoField"
