from django.http import HttpRequest, HttpResponse
from django.urls import path

app_name = "portal"


def _todo(request: HttpRequest, **kwargs: str) -> HttpResponse:
    return HttpResponse("Mon Compte")


urlpatterns = [
    path("", _todo, name="home"),
    path("connexion/", _todo, name="login"),
    path("mot-de-passe/definir/<uidb64>/<token>/", _todo, name="password_set"),
]
