"""A few starter FAQ entries so that a new instance does not show an empty page; the operator
edits or deletes them in the admin (written for Raccord, generic to any regional operator)."""

from typing import Any

from django.db import migrations

STARTER = [
    (
        "Souscription",
        "Comment savoir si mon logement peut être raccordé ?",
        "Saisissez votre adresse sur la page Éligibilité. Nous vous indiquons les offres "
        "disponibles chez vous, leur prix local et les éventuelles aides de votre collectivité.\n\n"
        "Si votre adresse n'apparaît pas, appelez le service client : nous vérifierons avec vous.",
    ),
    (
        "Souscription",
        "Combien de temps faut-il pour être raccordé ?",
        "Le délai dépend de votre adresse et du mode d'installation ; il est affiché avec chaque "
        "offre lors du test d'éligibilité. Il est plus court quand le logement est déjà équipé "
        "de notre matériel.",
    ),
    (
        "Souscription",
        "Puis-je changer d'avis après ma commande ?",
        "Oui. Vous disposez de 14 jours après la souscription pour vous rétracter, sans avoir à "
        "vous justifier. Tant que votre ligne n'est pas activée, l'annulation ne coûte rien.\n\n"
        "Si vous avez demandé que le service démarre pendant ce délai, seuls les jours "
        "d'utilisation depuis l'activation vous sont facturés ; les frais de mise en service ne "
        "sont jamais dus en cas de rétractation.",
    ),
    (
        "Paiement",
        "Quels modes de paiement acceptez-vous ?",
        "Le prélèvement SEPA mensuel, ou le chèque. Avec le prélèvement, la facture fait office "
        "de pré-notification et le montant est prélevé quelques jours après son émission.",
    ),
    (
        "Mon Compte",
        "Comment accéder à mon espace client ?",
        "Après votre commande, vous recevez un email avec un lien pour choisir votre mot de "
        "passe. Votre identifiant est l'adresse email donnée lors de la souscription.",
    ),
]


def add_entries(apps: Any, schema_editor: Any) -> None:
    FaqEntry = apps.get_model("site", "FaqEntry")
    if FaqEntry.objects.exists():
        return
    for position, (category, question, answer) in enumerate(STARTER, start=1):
        FaqEntry.objects.create(
            category=category, question=question, answer=answer, position=position * 10
        )


class Migration(migrations.Migration):
    dependencies = [("site", "0001_initial")]

    operations = [migrations.RunPython(add_entries, migrations.RunPython.noop)]
