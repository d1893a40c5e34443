from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from raccord.api.api import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("gestion/admin/", admin.site.urls),
    path("gestion/", include("raccord.backoffice.urls")),
    path("compte/", include("raccord.portal.urls")),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("raccord.site.urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
