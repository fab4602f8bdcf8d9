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
    "text.invisible_character": {
        "fr": "Le texte contient un caractère invisible ou un séparateur de ligne ({character}, position {position}), souvent apporté par un copier-coller ; effacez le texte et retapez-le.",
        "nl": "De tekst bevat een onzichtbaar teken of een regelscheiding ({character}, positie {position}), vaak meegekomen bij kopiëren en plakken; wis de tekst en typ hem opnieuw.",
        "en": "The text contains an invisible character or a line separator ({character}, position {position}), often brought along by copy and paste; clear the text and type it again.",
    },
    "text.not_text": {
        "fr": "Ce champ attend du texte, mais la valeur est arrivée comme nombre décimal ou comme vrai/faux (Excel convertit ainsi « true » ou « 1e308 ») ; dans Excel, tapez une apostrophe devant (') ou formatez la colonne en Texte ; par l'API, envoyez la valeur entre guillemets.",
        "nl": "Dit veld verwacht tekst, maar de waarde kwam aan als kommagetal of als waar/onwaar (zo zet Excel « true » of « 1e308 » om); typ in Excel een apostrof ervoor (') of geef de kolom de opmaak Tekst; via de API, stuur de waarde tussen aanhalingstekens.",
        "en": "This field expects text, but the value came as a decimal number or a true/false value (that is how Excel turns “true” or “1e308”); in Excel, type an apostrophe before it (') or format the column as Text; through the API, send the value in quotes.",
    },
    "name.character": {
        "fr": "Un nom ne peut contenir que des lettres (accents compris), des chiffres, des espaces, des apostrophes, des traits d'union et des points ; retirez « {character} » (position {position}).",
        "nl": "Een naam mag enkel letters (ook met accenten), cijfers, spaties, apostroffen, koppeltekens en punten bevatten; verwijder « {character} » (positie {position}).",
        "en": "A name may only hold letters (accents included), digits, spaces, apostrophes, hyphens and dots; remove “{character}” (position {position}).",
    },
    "name.no_letter": {
        "fr": "Un nom doit contenir au moins une lettre.",
        "nl": "Een naam moet minstens één letter bevatten.",
        "en": "A name must hold at least one letter.",
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
        "fr": "Ce numéro de TVA est inconnu du registre (BCE ou VIES). Vérifiez-le, ou cochez « Ne vérifiez pas le numéro de TVA » si l'entreprise vient d'être créée.",
        "nl": "Dit btw-nummer is onbekend in het register (KBO of VIES). Controleer het, of vink « Btw-nummer niet controleren » aan als de onderneming pas is opgericht.",
        "en": "This VAT number is unknown to the register (KBO or VIES). Check it, or tick “Don't check the VAT number” if the company was just founded.",
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
    "email.local_part_not_ascii": {
        "fr": "La partie avant le @ ne peut contenir que des lettres sans accent, des chiffres et . _ % + - : une adresse avec « {character} » n'est pas distribuée par tous les serveurs de messagerie. Écrivez-la sans accent si c'est la même boîte (souvent le cas), sinon demandez une autre adresse au client.",
        "nl": "Het deel vóór de @ mag enkel letters zonder accent, cijfers en . _ % + - bevatten: een adres met « {character} » wordt niet door alle mailservers bezorgd. Schrijf het zonder accent als het dezelfde mailbox is (vaak zo), anders vraag de klant een ander adres.",
        "en": "The part before the @ may only hold letters without accents, digits and . _ % + -: an address with “{character}” is not delivered by every mail server. Write it without the accent if it is the same mailbox (it often is), otherwise ask the client for another address.",
    },
    "email.domain_invalid": {
        "fr": "Le nom de domaine après le @ n'est pas valide ({domain}) ; vérifiez l'orthographe (pas de _ ni de trait d'union au début ou à la fin d'une partie).",
        "nl": "De domeinnaam na de @ is ongeldig ({domain}); controleer de spelling (geen _ en geen koppelteken aan het begin of einde van een deel).",
        "en": "The domain name after the @ is not valid ({domain}); check its spelling (no _ and no hyphen at the start or end of a part).",
    },
    "email.confusable": {
        "fr": "L'adresse contient « {character} » ({name}), qui ressemble à « {looks_like} » mais est une autre lettre : l'adresse passerait pour une autre. Effacez-la et retapez-la au clavier.",
        "nl": "Het adres bevat « {character} » ({name}), dat op « {looks_like} » lijkt maar een andere letter is: het adres zou voor een ander kunnen doorgaan. Wis het en typ het opnieuw op het toetsenbord.",
        "en": "The address holds “{character}” ({name}), which looks like “{looks_like}” but is another letter: the address would pass for another one. Clear it and type it again on the keyboard.",
    },
    "email.mixed_scripts": {
        "fr": "Le nom de domaine « {label} » mélange plusieurs alphabets (par ex. latin et cyrillique), ce que font les adresses qui imitent d'autres adresses ; vérifiez-le et retapez-le.",
        "nl": "De domeinnaam « {label} » mengt meerdere schriften (bv. Latijns en Cyrillisch), zoals adressen die andere adressen nabootsen; controleer en typ hem opnieuw.",
        "en": "The domain name “{label}” mixes several alphabets (e.g. Latin and Cyrillic), as addresses imitating other addresses do; check it and type it again.",
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
    "connection.unknown": {
        "fr": "Aucune connexion « {name} » n'existe dans vos paramètres ; choisissez-en une ({known}) ou créez-la d'abord.",
        "nl": "Er bestaat geen verbinding « {name} » in uw instellingen; kies er een ({known}) of maak ze eerst aan.",
        "en": "There is no connection “{name}” in your settings; pick one ({known}) or create it first.",
    },
    "connection.wrong_kind": {
        "fr": "La connexion « {name} » est de type {kind}, pas {method} ; choisissez une connexion {method} ({known}).",
        "nl": "De verbinding « {name} » is van het type {kind}, niet {method}; kies een {method}-verbinding ({known}).",
        "en": "The connection “{name}” is a {kind} connection, not {method}; pick a {method} connection ({known}).",
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
    "folder.invisible_character": {
        "fr": "Le nom du dossier contient un caractère invisible ({character}, position {position}) ; effacez-le et retapez le nom.",
        "nl": "De mapnaam bevat een onzichtbaar teken ({character}, positie {position}); wis het en typ de naam opnieuw.",
        "en": "The folder name contains an invisible character ({character}, position {position}); clear it and type the name again.",
    },
    "folder.percent_encoded": {
        "fr": "Le dossier contient un code d'URL (%xx) ; écrivez le nom en clair, par ex. « {decoded} ».",
        "nl": "De map bevat een URL-code (%xx); schrijf de naam voluit, bv. « {decoded} ».",
        "en": "The folder contains a URL escape (%xx); write the name plainly, e.g. “{decoded}”.",
    },
    "folder.character": {
        "fr": 'Le nom de dossier « {name} » contient « {character} », refusé par Windows et OneDrive (\\ / : * ? " < > |) ; retirez-le ou remplacez-le par un tiret.',
        "nl": 'De mapnaam « {name} » bevat « {character} », wat Windows en OneDrive weigeren (\\ / : * ? " < > |); verwijder het of vervang het door een koppelteken.',
        "en": 'The folder name “{name}” contains “{character}”, which Windows and OneDrive refuse (\\ / : * ? " < > |); remove it or use a hyphen instead.',
    },
    "folder.trailing_dot": {
        "fr": "Le nom de dossier « {name} » se termine par un point, que Windows supprime ; retirez le point final.",
        "nl": "De mapnaam « {name} » eindigt op een punt, dat Windows weglaat; verwijder de punt op het einde.",
        "en": "The folder name “{name}” ends with a dot, which Windows drops; remove the final dot.",
    },
    "folder.reserved_name": {
        "fr": "« {name} » est un nom réservé par Windows (CON, PRN, AUX, NUL, COM1…, LPT1…) ; choisissez un autre nom de dossier.",
        "nl": "« {name} » is een door Windows gereserveerde naam (CON, PRN, AUX, NUL, COM1…, LPT1…); kies een andere mapnaam.",
        "en": "“{name}” is a name Windows reserves (CON, PRN, AUX, NUL, COM1…, LPT1…); choose another folder name.",
    },
    "folder.too_long": {
        "fr": "Le chemin du dossier est trop long (maximum {max} caractères) ; raccourcissez-le.",
        "nl": "Het mappad is te lang (maximaal {max} tekens); maak het korter.",
        "en": "The folder path is too long (at most {max} characters); shorten it.",
    },
    "folder.name_too_long": {
        "fr": "Le nom de dossier « {name} » est trop long (maximum {max} caractères par dossier) ; raccourcissez-le.",
        "nl": "De mapnaam « {name} » is te lang (maximaal {max} tekens per map); maak hem korter.",
        "en": "The folder name “{name}” is too long (at most {max} characters per folder); shorten it.",
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


class _Blanks(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "…"  # a parameter the caller did not pass: never "{character}" on screen


def message(code: str, language: str, params: Mapping[str, str] | None = None) -> str:
    """The text for ``code`` in ``language`` (falls back to English, then to the code)."""
    texts = CATALOGUE.get(code)
    if texts is None:
        return code
    text = texts.get(language) or texts["en"]
    try:
        return text.format_map(_Blanks(params or {}))
    except (KeyError, IndexError, ValueError):
        return text
