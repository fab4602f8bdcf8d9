"""What each rule code means for a person, in French, Dutch and English: what is wrong and how to
fix it. The field itself is named by whoever shows the message (a form field, an Excel column)."""

from __future__ import annotations

from collections.abc import Mapping

LANGUAGES = ("fr", "nl", "en")

CATALOGUE: dict[str, dict[str, str]] = {
    "field.required": {
        "fr": "Ce champ est obligatoire ; complétez-le.",
        "nl": "Dit veld is verplicht; vul het in.",
        "en": "This field is required; fill it in.",
    },
    "field.invalid": {
        "fr": "Valeur invalide.",
        "nl": "Ongeldige waarde.",
        "en": "Invalid value.",
    },
    "field.choice": {
        "fr": "Valeur non reconnue ; choisissez parmi : {choices}.",
        "nl": "Onbekende waarde; kies uit: {choices}.",
        "en": "Unknown value; choose one of: {choices}.",
    },
    "field.boolean": {
        "fr": "Répondez par oui ou non.",
        "nl": "Antwoord met ja of nee.",
        "en": "Answer yes or no.",
    },
    "text.control_character": {
        "fr": "Le texte contient un caractère de contrôle (retour à la ligne, tabulation…) ; retirez-le.",
        "nl": "De tekst bevat een controleteken (regeleinde, tab…); verwijder het.",
        "en": "The text contains a control character (line break, tab…); remove it.",
    },
    "text.too_long": {
        "fr": "Texte trop long (maximum {max} caractères).",
        "nl": "Tekst te lang (maximaal {max} tekens).",
        "en": "Text too long (at most {max} characters).",
    },
    "vat.required": {
        "fr": "Le numéro de TVA est obligatoire.",
        "nl": "Het btw-nummer is verplicht.",
        "en": "The VAT number is required.",
    },
    "vat.format": {
        "fr": "Numéro de TVA mal formé ; pour la Belgique : BE suivi de 10 chiffres commençant par 0 ou 1 (ex. BE0403.170.701).",
        "nl": "Ongeldig btw-nummer; voor België: BE gevolgd door 10 cijfers die met 0 of 1 beginnen (bv. BE0403.170.701).",
        "en": "Malformed VAT number; for Belgium: BE followed by 10 digits starting with 0 or 1 (e.g. BE0403.170.701).",
    },
    "vat.checksum": {
        "fr": "Numéro de TVA invalide : le chiffre de contrôle ne correspond pas ; vérifiez qu'il n'y a pas de faute de frappe.",
        "nl": "Ongeldig btw-nummer: het controlegetal klopt niet; controleer op tikfouten.",
        "en": "Invalid VAT number: the check digits do not match; look for a typo.",
    },
    "vat.not_registered": {
        "fr": "Ce numéro de TVA est inconnu du registre (VIES). Vérifiez-le, ou cochez « Ne vérifiez pas le numéro de TVA » si l'entreprise vient d'être créée.",
        "nl": "Dit btw-nummer is onbekend in het register (VIES). Controleer het, of vink « Btw-nummer niet controleren » aan als de onderneming pas is opgericht.",
        "en": "This VAT number is unknown to the register (VIES). Check it, or tick “Don't check the VAT number” if the company was just founded.",
    },
    "email.required": {
        "fr": "L'adresse e-mail est obligatoire.",
        "nl": "Het e-mailadres is verplicht.",
        "en": "The e-mail address is required.",
    },
    "email.syntax": {
        "fr": "Adresse e-mail invalide ; elle doit ressembler à nom@domaine.be.",
        "nl": "Ongeldig e-mailadres; het moet lijken op naam@domein.be.",
        "en": "Invalid e-mail address; it must look like name@domain.be.",
    },
    "email.taken": {
        "fr": "Cette adresse e-mail est déjà utilisée sur la plateforme. Une adresse ne peut servir qu'une fois : pour une deuxième entreprise, utilisez par ex. info+societe2@gmail.com.",
        "nl": "Dit e-mailadres wordt al gebruikt op het platform. Een adres kan maar één keer dienen: gebruik voor een tweede onderneming bv. info+bedrijf2@gmail.com.",
        "en": "This e-mail address is already used on the platform. An address can be used only once: for a second company use e.g. info+company2@gmail.com.",
    },
    "email.duplicate_in_file": {
        "fr": "Cette adresse e-mail apparaît plusieurs fois dans le fichier ; chaque client doit avoir sa propre adresse.",
        "nl": "Dit e-mailadres komt meermaals voor in het bestand; elke klant heeft een eigen adres nodig.",
        "en": "This e-mail address appears more than once in the file; each client needs its own address.",
    },
    "phone.required": {
        "fr": "Le numéro de mobile est obligatoire.",
        "nl": "Het gsm-nummer is verplicht.",
        "en": "The mobile number is required.",
    },
    "phone.syntax": {
        "fr": "Numéro de téléphone illisible ; écrivez-le par ex. +32 478 11 22 33.",
        "nl": "Onleesbaar telefoonnummer; schrijf het bv. als +32 478 11 22 33.",
        "en": "Unreadable phone number; write it e.g. as +32 478 11 22 33.",
    },
    "phone.invalid": {
        "fr": "Ce numéro de téléphone n'existe pas ; vérifiez le nombre de chiffres et l'indicatif du pays.",
        "nl": "Dit telefoonnummer bestaat niet; controleer het aantal cijfers en de landcode.",
        "en": "This phone number does not exist; check the number of digits and the country code.",
    },
    "phone.not_mobile": {
        "fr": "Il faut un numéro de mobile (le client le confirme à sa première connexion), pas un numéro fixe.",
        "nl": "Er is een gsm-nummer nodig (de klant bevestigt het bij de eerste aanmelding), geen vast nummer.",
        "en": "A mobile number is needed (the client confirms it when first signing in), not a landline.",
    },
    "iban.required": {
        "fr": "Le numéro de compte (IBAN) est obligatoire.",
        "nl": "Het rekeningnummer (IBAN) is verplicht.",
        "en": "The account number (IBAN) is required.",
    },
    "iban.checksum": {
        "fr": "IBAN invalide : le chiffre de contrôle ne correspond pas ; vérifiez qu'il n'y a pas de faute de frappe.",
        "nl": "Ongeldige IBAN: het controlegetal klopt niet; controleer op tikfouten.",
        "en": "Invalid IBAN: the check digits do not match; look for a typo.",
    },
    "iban.format": {
        "fr": "IBAN mal formé ou de mauvaise longueur pour son pays (ex. BE68 5390 0754 7034).",
        "nl": "IBAN verkeerd opgebouwd of met de verkeerde lengte voor het land (bv. BE68 5390 0754 7034).",
        "en": "Malformed IBAN or wrong length for its country (e.g. BE68 5390 0754 7034).",
    },
    "iban.duplicate": {
        "fr": "Ce compte bancaire est déjà dans la liste.",
        "nl": "Deze bankrekening staat al in de lijst.",
        "en": "This bank account is already in the list.",
    },
    "bank_accounts.required_for_managed": {
        "fr": "Le mode « Interne, gérée par le comptable » exige au moins un compte bancaire du client.",
        "nl": "De modus « Intern, beheerd door de boekhouder » vereist minstens één bankrekening van de klant.",
        "en": "The “managed by the accountant” mode needs at least one bank account of the client.",
    },
    "group.unknown": {
        "fr": "Ce groupe n'existe pas dans votre bureau ; créez-le d'abord ou choisissez un groupe existant.",
        "nl": "Deze groep bestaat niet in uw kantoor; maak hem eerst aan of kies een bestaande groep.",
        "en": "This group does not exist in your office; create it first or pick an existing group.",
    },
    "transfer_method.not_enabled": {
        "fr": "Le mode de transfert « {method} » n'est pas activé dans vos paramètres généraux ; activez-le d'abord.",
        "nl": "De overdrachtsmethode « {method} » is niet geactiveerd in uw algemene instellingen; activeer ze eerst.",
        "en": "The transfer method “{method}” is not enabled in your general settings; enable it first.",
    },
    "email_target.required": {
        "fr": "Indiquez une adresse e-mail pour tous les documents, ou une par type de document.",
        "nl": "Geef één e-mailadres voor alle documenten, of één per documenttype.",
        "en": "Give one e-mail address for all documents, or one per document type.",
    },
    "email_target.all_or_per_type": {
        "fr": "Choisissez soit une seule adresse pour tous les documents, soit une adresse par type, pas les deux.",
        "nl": "Kies ofwel één adres voor alle documenten, ofwel één per type, niet beide.",
        "en": "Choose either one address for all documents or one per type, not both.",
    },
    "folder.required": {
        "fr": "Le nom du dossier est obligatoire.",
        "nl": "De mapnaam is verplicht.",
        "en": "The folder name is required.",
    },
    "folder.traversal": {
        "fr": "Le dossier ne peut pas contenir « .. » ; indiquez un chemin relatif simple (ex. clients/acme).",
        "nl": "De map mag geen « .. » bevatten; geef een eenvoudig relatief pad (bv. klanten/acme).",
        "en": "The folder cannot contain “..”; give a simple relative path (e.g. clients/acme).",
    },
    "folder.absolute": {
        "fr": "Le dossier doit être un chemin relatif (sans / ni lettre de lecteur au début).",
        "nl": "De map moet een relatief pad zijn (zonder / of stationsletter vooraan).",
        "en": "The folder must be a relative path (no leading / or drive letter).",
    },
    "folder.control_character": {
        "fr": "Le nom du dossier contient un caractère de contrôle ; retirez-le.",
        "nl": "De mapnaam bevat een controleteken; verwijder het.",
        "en": "The folder name contains a control character; remove it.",
    },
    "timing.manual": {
        "fr": "Le moment d'envoi ne s'applique pas au transfert manuel.",
        "nl": "Het verzendmoment geldt niet voor manuele overdracht.",
        "en": "The sending time does not apply to manual transfer.",
    },
    "timing.delay_days": {
        "fr": "Indiquez un délai entier entre 1 et 365 jours.",
        "nl": "Geef een vertraging van 1 tot 365 dagen (geheel getal).",
        "en": "Give a delay of 1 to 365 days (a whole number).",
    },
    "timing.delay_without_delayed": {
        "fr": "Un délai en jours n'a de sens qu'avec « avec un délai de N jours ».",
        "nl": "Een vertraging in dagen heeft enkel zin bij « met een vertraging van N dagen ».",
        "en": "A delay in days only applies to “with a delay of N days”.",
    },
    "ledger.duplicate": {
        "fr": "Ce compte du grand livre figure déjà dans la liste.",
        "nl": "Deze grootboekrekening staat al in de lijst.",
        "en": "This ledger account is already in the list.",
    },
    "ledger.one_default": {
        "fr": "Avec plusieurs comptes de vente, exactement un doit être le compte par défaut.",
        "nl": "Met meerdere verkooprekeningen moet er precies één de standaardrekening zijn.",
        "en": "With several sales ledger accounts, exactly one must be the default.",
    },
    "date.format": {
        "fr": "Date illisible ; écrivez-la JJ/MM/AAAA ou AAAA-MM-JJ.",
        "nl": "Onleesbare datum; schrijf DD/MM/JJJJ of JJJJ-MM-DD.",
        "en": "Unreadable date; write DD/MM/YYYY or YYYY-MM-DD.",
    },
    "task_list.follow_from_future": {
        "fr": "La date de début du suivi ne peut pas être dans le futur.",
        "nl": "De startdatum van de opvolging kan niet in de toekomst liggen.",
        "en": "The follow-up start date cannot be in the future.",
    },
    "task_list.follow_from_too_old": {
        "fr": "La date de début du suivi peut remonter au plus à {days} jours.",
        "nl": "De startdatum van de opvolging mag hoogstens {days} dagen terug liggen.",
        "en": "The follow-up start date can be at most {days} days in the past.",
    },
}


def message(code: str, language: str, params: Mapping[str, str] | None = None) -> str:
    """The text for ``code`` in ``language`` (falls back to English, then to the code)."""
    texts = CATALOGUE.get(code)
    if texts is None:
        return code
    text = texts.get(language) or texts["en"]
    try:
        return text.format(**(params or {}))
    except (KeyError, IndexError):
        return text
