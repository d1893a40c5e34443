"""The network pages of the back-office, added to the ``backoffice`` namespace."""

from django.urls import URLPattern, path

from raccord.network import backoffice_views as views

urlpatterns: list[URLPattern] = [
    path("reseau/incidents/", views.incidents_list, name="network_incidents"),
    path("reseau/incidents/nouveau/", views.incident_new, name="network_incident_new"),
    path("reseau/incidents/<int:incident_id>/", views.incident_edit, name="network_incident"),
    path("reseau/collecte/", views.feed_status, name="network_feed"),
    path("reseau/lignes/<int:contract_id>/", views.contract_network, name="network_contract"),
    path(
        "reseau/lignes/<int:contract_id>/geste/",
        views.gesture_grant_view,
        name="network_gesture_grant",
    ),
]
