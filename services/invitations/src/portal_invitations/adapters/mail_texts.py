"""The invitation e-mail's words in French, Dutch and English (placeholders filled per client)."""

from __future__ import annotations

from typing import Final

TEXTS: Final[dict[str, dict[str, str]]] = {
    "fr": {
        "subject": "{office} vous invite sur votre portail client",
        "greeting": "Bonjour {first_name},",
        "intro": (
            "{office} vous invite à rejoindre votre espace client sur le portail comptable. "
            "Vous y retrouverez vos documents et travaillerez facilement avec votre comptable."
        ),
        "cta": "Activer mon accès",
        "steps": (
            "Le bouton vous permet de choisir votre mot de passe. Pour confirmer qu'il s'agit "
            "bien de vous, nous vous demanderons votre numéro de téléphone mobile."
        ),
        "fallback": "Si le bouton ne fonctionne pas, copiez ce lien dans votre navigateur :",
        "expiry": "Ce lien est personnel, ne sert qu'une seule fois et expire le {date}.",
        "ignore": (
            "Vous n'attendiez pas cette invitation ? Ignorez simplement ce message ou "
            "contactez {office}."
        ),
        "signoff": "À bientôt,",
        "unknown_office": "Votre cabinet comptable",
        "at": "à",
    },
    "nl": {
        "subject": "{office} nodigt u uit op uw klantenportaal",
        "greeting": "Beste {first_name},",
        "intro": (
            "{office} nodigt u uit voor uw klantenruimte op het boekhoudportaal. Daar vindt u "
            "uw documenten en werkt u eenvoudig samen met uw boekhouder."
        ),
        "cta": "Mijn toegang activeren",
        "steps": (
            "Met de knop kiest u uw wachtwoord. Om te bevestigen dat u het bent, vragen we uw "
            "gsm-nummer."
        ),
        "fallback": "Werkt de knop niet? Kopieer dan deze link in uw browser:",
        "expiry": "Deze link is persoonlijk, werkt maar één keer en vervalt op {date}.",
        "ignore": (
            "Verwachtte u deze uitnodiging niet? Negeer dan gewoon dit bericht of neem contact "
            "op met {office}."
        ),
        "signoff": "Tot binnenkort,",
        "unknown_office": "Uw boekhoudkantoor",
        "at": "om",
    },
    "en": {
        "subject": "{office} invites you to your client portal",
        "greeting": "Hello {first_name},",
        "intro": (
            "{office} invites you to your client space on the accounting portal, where you "
            "will find your documents and work easily with your accountant."
        ),
        "cta": "Activate my access",
        "steps": (
            "The button lets you choose your password. To confirm it is you, we will ask for "
            "your mobile phone number."
        ),
        "fallback": "If the button does not work, copy this link into your browser:",
        "expiry": "This link is personal, works only once and expires on {date}.",
        "ignore": (
            "Not expecting this invitation? Simply ignore this message or contact {office}."
        ),
        "signoff": "See you soon,",
        "unknown_office": "Your accounting office",
        "at": "at",
    },
}

MONTHS: Final[dict[str, tuple[str, ...]]] = {
    "fr": (
        "janvier", "février", "mars", "avril", "mai", "juin",
        "juillet", "août", "septembre", "octobre", "novembre", "décembre",
    ),
    "nl": (
        "januari", "februari", "maart", "april", "mei", "juni",
        "juli", "augustus", "september", "oktober", "november", "december",
    ),
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
}  # fmt: skip
