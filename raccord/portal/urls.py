"""Mon Compte, under /compte/. The names ``portal:home``, ``portal:login`` and
``portal:password_set`` (uidb64, token) are used by the order summary email: keep them."""

from django.urls import path

from raccord.network.portal_urls import urlpatterns as network_urls
from raccord.payments.portal_urls import urlpatterns as payments_urls
from raccord.portal import auth_views, billing_views, views

app_name = "portal"

urlpatterns = [
    path("", views.home_view, name="home"),
    path("offre/", views.offer_view, name="offer"),
    path("factures/", billing_views.invoices_view, name="invoices"),
    path("factures/<int:document_id>/", billing_views.invoice_detail_view, name="invoice_detail"),
    path("factures/<int:document_id>/pdf/", billing_views.invoice_pdf_view, name="invoice_pdf"),
    path(
        "resiliation/apercu/",
        billing_views.termination_preview_view,
        name="termination_preview",
    ),
    path("informations/", views.informations_view, name="informations"),
    path("informations/telephone/", views.phone_change_view, name="phone_change"),
    path("informations/email/", views.email_change_view, name="email_change"),
    path(
        "informations/email/confirmer/<str:token>/",
        views.email_confirm_view,
        name="email_confirm",
    ),
    path("connexion/", auth_views.login_view, name="login"),
    path("deconnexion/", auth_views.logout_view, name="logout"),
    path("mot-de-passe/oublie/", auth_views.password_reset_view, name="password_reset"),
    path(
        "mot-de-passe/oublie/envoye/",
        auth_views.password_reset_sent_view,
        name="password_reset_sent",
    ),
    path(
        "mot-de-passe/definir/<uidb64>/<token>/",
        auth_views.password_set_view,
        name="password_set",
    ),
]

# Pages of other apps, in the same namespace.
urlpatterns += payments_urls + network_urls
