"""Back-office pages: payments received, balances, bank-details changes and refunds."""

from django.urls import URLPattern, path

from raccord.payments import money_views

urlpatterns: list[URLPattern] = [
    path("clients/<int:customer_id>/paiements/", money_views.customer_money, name="customer_money"),
    path(
        "clients/<int:customer_id>/paiements/enregistrer/",
        money_views.payment_record_page,
        name="payment_record",
    ),
    path(
        "clients/<int:customer_id>/coordonnees-bancaires/",
        money_views.mandate_change_page,
        name="mandate_change",
    ),
    path("remboursements/", money_views.refunds_page, name="refunds"),
    path("remboursements/preparer/", money_views.refunds_run, name="refunds_run"),
    path(
        "remboursements/<int:refund_id>/cheque/",
        money_views.refund_cheque_page,
        name="refund_cheque",
    ),
    path(
        "remboursements/fichiers/<int:batch_id>/",
        money_views.refund_batch_file,
        name="refund_batch_file",
    ),
]
