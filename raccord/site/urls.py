from django.urls import path

from raccord.site import signup_views, views

app_name = "site"
urlpatterns = [
    path("", views.home, name="home"),
    path("offres/", views.offers, name="offers"),
    path("eligibilite/", views.eligibility, name="eligibility"),
    path("eligibilite/suggestions/", views.eligibility_suggestions, name="eligibility_suggestions"),
    path("eligibilite/<int:address_id>/", views.eligibility_result, name="eligibility_result"),
    path("faq/", views.faq, name="faq"),
    path("cgv/", views.cgv, name="cgv"),
    path("cgv/<str:version>/", views.cgv_version, name="cgv_version"),
    path("inscription/", signup_views.signup_start, name="signup_start"),
    path(
        "inscription/confirmation/<str:reference>/",
        signup_views.signup_confirmation,
        name="signup_confirmation",
    ),
    path("inscription/<slug:step>/", signup_views.signup_step, name="signup_step"),
]
