"""The payments pages of the back-office, added to the ``backoffice`` namespace: the debit
files and returns (``debits_urls``) and the payments, balances and mandates (``money_urls``)."""

from raccord.payments.debits_urls import urlpatterns as debits_urls
from raccord.payments.money_urls import urlpatterns as money_urls

urlpatterns = debits_urls + money_urls
