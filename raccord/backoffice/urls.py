from django.urls import URLPattern, path

from raccord.backoffice import billing_views, document_views, move_views, views, whatif_views
from raccord.network.backoffice_urls import urlpatterns as network_urls
from raccord.payments.backoffice_urls import urlpatterns as payments_urls

app_name = "backoffice"
urlpatterns: list[URLPattern] = [
    path("", views.dashboard, name="dashboard"),
    path("connexion/", views.login_view, name="login"),
    path("deconnexion/", views.logout_view, name="logout"),
    path("clients/", views.customer_search, name="customer_search"),
    path("clients/<int:customer_id>/", views.customer_detail, name="customer_detail"),
    path("souscription/nouvelle/", views.signup_new, name="signup"),
    path("documents/<int:document_id>/", document_views.document_detail, name="document_detail"),
    path("documents/<int:document_id>/pdf/", document_views.document_pdf, name="document_pdf"),
    path("facturation/", billing_views.billing_runs, name="billing_runs"),
    path("facturation/lancer/", billing_views.billing_run_launch, name="billing_run_launch"),
    path("facturation/<str:month>/", billing_views.billing_run, name="billing_run"),
    path(
        "facturation/<str:month>/etat.json",
        billing_views.billing_run_status,
        name="billing_run_status",
    ),
    path(
        "contrats/<int:contract_id>/resiliation/",
        document_views.termination_preview,
        name="termination_preview",
    ),
    path(
        "contrats/<int:contract_id>/demenagement/",
        move_views.contract_move_page,
        name="contract_move",
    ),
    path(
        "contrats/<int:contract_id>/simulation/",
        whatif_views.contract_whatif,
        name="contract_whatif",
    ),
]

# Pages of other apps, in the same namespace.
urlpatterns += payments_urls + network_urls
