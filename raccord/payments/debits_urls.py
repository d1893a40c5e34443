"""Back-office pages: debit files (pain.008), their batches and the returns imports."""

from django.urls import URLPattern, path

from raccord.payments import debits_views as views

urlpatterns: list[URLPattern] = [
    path("prelevements/", views.debit_batches, name="debit_batches"),
    path("prelevements/<int:batch_id>/", views.debit_batch, name="debit_batch"),
    path(
        "prelevements/<int:batch_id>/fichier/",
        views.debit_batch_download,
        name="debit_batch_download",
    ),
    path(
        "prelevements/<int:batch_id>/transmis/",
        views.debit_batch_submit_view,
        name="debit_batch_submit",
    ),
    path(
        "prelevements/<int:batch_id>/encaisse/",
        views.debit_batch_settle_view,
        name="debit_batch_settle",
    ),
    path("prelevements/rejets/", views.debit_returns, name="debit_returns"),
    path("prelevements/rejets/<int:import_id>/", views.debit_return, name="debit_return"),
]
