from django.urls import URLPattern, path

from raccord.backoffice import views

app_name = "backoffice"
urlpatterns: list[URLPattern] = [
    path("", views.dashboard, name="dashboard"),
    path("connexion/", views.login_view, name="login"),
    path("deconnexion/", views.logout_view, name="logout"),
    path("clients/", views.customer_search, name="customer_search"),
    path("clients/<int:customer_id>/", views.customer_detail, name="customer_detail"),
    path("souscription/nouvelle/", views.signup_new, name="signup"),
]
