from django.urls import path

from raccord.site import views

app_name = "site"
urlpatterns = [
    path("", views.home, name="home"),
    path("offres/", views.offers, name="offers"),
    path("eligibilite/", views.eligibility, name="eligibility"),
    path("faq/", views.faq, name="faq"),
    path("cgv/", views.cgv, name="cgv"),
]
