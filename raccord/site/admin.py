from django.contrib import admin

from raccord.site.models import FaqEntry


@admin.register(FaqEntry)
class FaqEntryAdmin(admin.ModelAdmin):
    list_display = ["question", "category", "position", "published"]
    list_editable = ["position", "published"]
    list_filter = ["published", "category"]
    search_fields = ["question", "answer", "category"]
    ordering = ["position", "id"]
