"""The service's problem codes in French, Dutch and English ("what, where, how to fix")."""

from __future__ import annotations

from portal_invitations.domain.passwords import MAX_LENGTH, MIN_LENGTH

MESSAGES: dict[str, dict[str, str]] = {
    "invitation.client_active": {
        "fr": "Ce client est déjà actif : il n'y a plus d'invitation à envoyer.",
        "nl": "Deze klant is al actief: er hoeft geen uitnodiging meer te worden verstuurd.",
        "en": "This client is already active: there is no invitation left to send.",
    },
    "invitation.client_archived": {
        "fr": "Ce client est archivé : restaurez-le avant de l'inviter ou de l'activer.",
        "nl": "Deze klant is gearchiveerd: herstel hem voor u hem uitnodigt of activeert.",
        "en": "This client is archived: restore it before you invite or activate it.",
    },
    "invitation.none_open": {
        "fr": "Ce client n'a pas d'invitation en cours à révoquer.",
        "nl": "Deze klant heeft geen lopende uitnodiging om in te trekken.",
        "en": "This client has no open invitation to revoke.",
    },
    "activation.not_accountant_managed": {
        "fr": "Seuls les clients en mode « géré par le comptable » peuvent être activés ; "
        "invitez ce client ou changez son mode d'abonnement.",
        "nl": "Alleen klanten in de modus 'beheerd door de boekhouder' kunnen worden "
        "geactiveerd; nodig deze klant uit of wijzig de abonnementsmodus.",
        "en": "Only clients in the 'managed by the accountant' mode can be activated; invite "
        "this client or change its subscription mode.",
    },
    "invitation.link_invalid": {
        "fr": "Ce lien d'invitation n'est plus valable (expiré, déjà utilisé ou remplacé). "
        "Demandez une nouvelle invitation à votre comptable.",
        "nl": "Deze uitnodigingslink is niet meer geldig (verlopen, al gebruikt of vervangen). "
        "Vraag uw boekhouder om een nieuwe uitnodiging.",
        "en": "This invitation link is no longer valid (expired, already used or replaced). "
        "Ask your accountant for a new invitation.",
    },
    "invitation.mobile_mismatch": {
        "fr": "Ce numéro de mobile ne correspond pas à celui que votre comptable a enregistré.",
        "nl": "Dit gsm-nummer komt niet overeen met het nummer dat uw boekhouder registreerde.",
        "en": "This mobile number does not match the one your accountant recorded.",
    },
    "invitation.too_many_attempts": {
        "fr": "Trop de tentatives ; réessayez dans quelques minutes.",
        "nl": "Te veel pogingen; probeer het over enkele minuten opnieuw.",
        "en": "Too many attempts; try again in a few minutes.",
    },
    "mail.header_injection": {
        "fr": "Ce champ contient un retour à la ligne, interdit dans un e-mail ; retirez-le.",
        "nl": "Dit veld bevat een regeleinde, wat in een e-mail niet mag; verwijder het.",
        "en": "This field contains a line break, which an e-mail cannot carry; remove it.",
    },
    "password.policy": {
        "fr": "Ce mot de passe ne respecte pas les règles.",
        "nl": "Dit wachtwoord voldoet niet aan de regels.",
        "en": "This password does not meet the rules.",
    },
    "password.too_short": {
        "fr": f"Au moins {MIN_LENGTH} caractères ; une phrase de plusieurs mots convient bien.",
        "nl": f"Minstens {MIN_LENGTH} tekens; een zin van enkele woorden werkt goed.",
        "en": f"At least {MIN_LENGTH} characters; a phrase of several words works well.",
    },
    "password.too_long": {
        "fr": f"Au plus {MAX_LENGTH} caractères.",
        "nl": f"Hoogstens {MAX_LENGTH} tekens.",
        "en": f"At most {MAX_LENGTH} characters.",
    },
    "password.repetitive": {
        "fr": "Utilisez au moins 5 caractères différents.",
        "nl": "Gebruik minstens 5 verschillende tekens.",
        "en": "Use at least 5 different characters.",
    },
    "password.too_common": {
        "fr": "Ce mot de passe est trop courant ou trop simple ; choisissez-en un autre.",
        "nl": "Dit wachtwoord is te gangbaar of te eenvoudig; kies een ander.",
        "en": "This password is too common or too simple; choose another one.",
    },
    "password.personal_data": {
        "fr": "N'utilisez ni votre nom, ni votre prénom, ni votre adresse e-mail.",
        "nl": "Gebruik niet uw naam, voornaam of e-mailadres.",
        "en": "Do not use your name, first name or e-mail address.",
    },
}

POLICY_RULES = (
    "password.too_short",
    "password.too_long",
    "password.repetitive",
    "password.too_common",
    "password.personal_data",
)
