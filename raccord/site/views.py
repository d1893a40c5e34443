from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "site/home.html")


# Placeholders so that the shared layout can link every page; filled in by the next commits.
def offers(request: HttpRequest) -> HttpResponse:
    return render(request, "site/home.html")


def eligibility(request: HttpRequest) -> HttpResponse:
    return render(request, "site/home.html")


def faq(request: HttpRequest) -> HttpResponse:
    return render(request, "site/home.html")


def cgv(request: HttpRequest) -> HttpResponse:
    return render(request, "site/home.html")
