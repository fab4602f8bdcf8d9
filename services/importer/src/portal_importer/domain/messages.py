"""Messages of the importer's own codes (files, sheets, columns, imports) in fr/nl/en.

Codes of the client rules are worded by ``portal_client_rules.messages``: one wording for the form
and the import, never copied here.
"""

from __future__ import annotations

from collections.abc import Mapping

from portal_client_rules import messages as rule_messages

IMPORTER_MESSAGES: dict[str, dict[str, str]] = {
    "file.empty": {
        "fr": "Le fichier est vide. Téléchargez le modèle, complétez-le et réessayez.",
        "nl": "Het bestand is leeg. Download het sjabloon, vul het in en probeer opnieuw.",
        "en": "The file is empty. Download the template, fill it in and try again.",
    },
    "file.not_found": {
        "fr": "Fichier introuvable.",
        "nl": "Bestand niet gevonden.",
        "en": "File not found.",
    },
    "file.too_large": {
        "fr": "Le fichier dépasse {max_mb} Mo ; scindez-le en plusieurs fichiers.",
        "nl": "Het bestand is groter dan {max_mb} MB; splits het in meerdere bestanden.",
        "en": "The file is larger than {max_mb} MB; split it into several files.",
    },
    "file.not_xlsx": {
        "fr": "Ce fichier n'est pas un classeur Excel (.xlsx). Enregistrez-le au format .xlsx et réessayez.",
        "nl": "Dit bestand is geen Excel-werkmap (.xlsx). Sla het op als .xlsx en probeer opnieuw.",
        "en": "This file is not an Excel workbook (.xlsx). Save it as .xlsx and try again.",
    },
    "file.xls": {
        "fr": "Ancien format Excel (.xls) : ouvrez-le dans Excel et enregistrez-le au format .xlsx.",
        "nl": "Oud Excel-formaat (.xls): open het in Excel en sla het op als .xlsx.",
        "en": "Old Excel format (.xls): open it in Excel and save it as .xlsx.",
    },
    "file.encrypted": {
        "fr": "Le classeur est protégé par un mot de passe ; enregistrez-le sans mot de passe et réessayez.",
        "nl": "De werkmap is met een wachtwoord beveiligd; sla ze op zonder wachtwoord en probeer opnieuw.",
        "en": "The workbook is password-protected; save it without a password and try again.",
    },
    "file.corrupt": {
        "fr": "Le fichier est endommagé et ne peut pas être lu ; enregistrez-le à nouveau depuis Excel.",
        "nl": "Het bestand is beschadigd en kan niet gelezen worden; sla het opnieuw op vanuit Excel.",
        "en": "The file is damaged and cannot be read; save it again from Excel.",
    },
    "file.zip_bomb": {
        "fr": "Le contenu décompressé du fichier est anormalement volumineux ; il est refusé.",
        "nl": "De uitgepakte inhoud van het bestand is abnormaal groot; het wordt geweigerd.",
        "en": "The file's uncompressed content is abnormally large; it is refused.",
    },
    "file.xml_entities": {
        "fr": "Le fichier contient des déclarations XML non autorisées (DOCTYPE/ENTITY) ; il est refusé.",
        "nl": "Het bestand bevat niet-toegelaten XML-declaraties (DOCTYPE/ENTITY); het wordt geweigerd.",
        "en": "The file contains forbidden XML declarations (DOCTYPE/ENTITY); it is refused.",
    },
    "sheet.too_many_rows": {
        "fr": "La feuille contient plus de {max} lignes ; importez au plus {max} clients par fichier (scindez-le).",
        "nl": "Het blad bevat meer dan {max} rijen; importeer hoogstens {max} klanten per bestand (splits het).",
        "en": "The sheet holds more than {max} rows; import at most {max} clients per file (split it).",
    },
    "sheet.too_many_columns": {
        "fr": "La feuille contient des données au-delà de la colonne {max} ; supprimez les colonnes inutiles.",
        "nl": "Het blad bevat gegevens voorbij kolom {max}; verwijder de overbodige kolommen.",
        "en": "The sheet holds data beyond column {max}; delete the columns you do not need.",
    },
    "sheet.too_many_cells": {
        "fr": "La feuille contient trop de cellules remplies ; scindez le fichier.",
        "nl": "Het blad bevat te veel ingevulde cellen; splits het bestand.",
        "en": "The sheet holds too many filled cells; split the file.",
    },
    "sheet.dimension_ignored": {
        "fr": "La feuille annonce une taille de {claimed} ; seules les cellules remplies ont été lues.",
        "nl": "Het blad vermeldt een grootte van {claimed}; enkel de ingevulde cellen werden gelezen.",
        "en": "The sheet claims a size of {claimed}; only the filled cells were read.",
    },
    "sheet.no_header": {
        "fr": "Aucune ligne d'en-tête reconnue ; utilisez le modèle d'importation (la 1re ligne nomme les colonnes).",
        "nl": "Geen herkende kopregel; gebruik het importsjabloon (de 1e rij benoemt de kolommen).",
        "en": "No header row recognised; use the import template (the 1st row names the columns).",
    },
    "sheet.no_rows": {
        "fr": "Le fichier ne contient aucun client à importer.",
        "nl": "Het bestand bevat geen klanten om te importeren.",
        "en": "The file holds no client to import.",
    },
    "column.unknown": {
        "fr": "Colonne inconnue, ignorée.",
        "nl": "Onbekende kolom, genegeerd.",
        "en": "Unknown column, ignored.",
    },
    "column.duplicate": {
        "fr": "Cette colonne apparaît deux fois ; supprimez l'une des deux.",
        "nl": "Deze kolom komt twee keer voor; verwijder er één.",
        "en": "This column appears twice; delete one of them.",
    },
    "column.missing": {
        "fr": "Colonne obligatoire absente ; ajoutez-la (voir le modèle).",
        "nl": "Verplichte kolom ontbreekt; voeg ze toe (zie het sjabloon).",
        "en": "Required column missing; add it (see the template).",
    },
    "row.example_skipped": {
        "fr": "Ligne d'exemple du modèle, ignorée.",
        "nl": "Voorbeeldregel van het sjabloon, genegeerd.",
        "en": "The template's example row, skipped.",
    },
    "cell.formula_without_value": {
        "fr": "Cette cellule contient une formule sans valeur calculée ; remplacez-la par sa valeur.",
        "nl": "Deze cel bevat een formule zonder berekende waarde; vervang ze door haar waarde.",
        "en": "This cell holds a formula without a computed value; replace it with its value.",
    },
    "vat.duplicate_in_file": {
        "fr": "Ce numéro de TVA apparaît plusieurs fois avec la même référence interne ; donnez à chaque dossier sa propre référence.",
        "nl": "Dit btw-nummer komt meermaals voor met dezelfde interne referentie; geef elk dossier een eigen referentie.",
        "en": "This VAT number appears more than once with the same internal reference; give each file its own reference.",
    },
    "email.unavailable": {
        "fr": "Cette adresse e-mail ne peut pas être utilisée pour un nouveau client ; indiquez-en une autre.",
        "nl": "Dit e-mailadres kan niet gebruikt worden voor een nieuwe klant; geef een ander adres op.",
        "en": "This e-mail address cannot be used for a new client; give another one.",
    },
    "vat.unavailable": {
        "fr": "Ce numéro de TVA ne peut pas être utilisé pour un nouveau client ; vérifiez-le ou supprimez cette ligne.",
        "nl": "Dit btw-nummer kan niet gebruikt worden voor een nieuwe klant; controleer het of verwijder deze rij.",
        "en": "This VAT number cannot be used for a new client; check it or delete this row.",
    },
    # The clients service's own code for such a company, worded as neutrally in a report.
    "company.on_platform": {
        "fr": "Ce numéro de TVA ne peut pas être utilisé pour un nouveau client ; vérifiez-le ou supprimez cette ligne.",
        "nl": "Dit btw-nummer kan niet gebruikt worden voor een nieuwe klant; controleer het of verwijder deze rij.",
        "en": "This VAT number cannot be used for a new client; check it or delete this row.",
    },
    "email.taken_in_office": {
        "fr": "Votre bureau a déjà un client avec cette adresse e-mail ; modifiez ce client-là plutôt que d'en créer un second.",
        "nl": "Uw kantoor heeft al een klant met dit e-mailadres; wijzig die klant in plaats van een tweede aan te maken.",
        "en": "Your office already has a client with this e-mail address; edit that client instead of adding a second one.",
    },
    "vat.taken_in_office": {
        "fr": "Votre bureau a déjà un client avec ce numéro de TVA ; modifiez ce client-là plutôt que d'en créer un second.",
        "nl": "Uw kantoor heeft al een klant met dit btw-nummer; wijzig die klant in plaats van een tweede aan te maken.",
        "en": "Your office already has a client with this VAT number; edit that client instead of adding a second one.",
    },
    "uniqueness.offline": {
        "fr": "Hors ligne : l'unicité des e-mails et numéros de TVA sur la plateforme n'a pas été vérifiée.",
        "nl": "Offline: de uniciteit van e-mails en btw-nummers op het platform werd niet gecontroleerd.",
        "en": "Offline: e-mails and VAT numbers were not checked against the platform.",
    },
    "uniqueness.unavailable": {
        "fr": "La vérification d'unicité sur la plateforme est momentanément indisponible ; réessayez plus tard.",
        "nl": "De uniciteitscontrole op het platform is tijdelijk niet beschikbaar; probeer later opnieuw.",
        "en": "The platform-wide uniqueness check is unavailable right now; try again later.",
    },
    "import.not_editable": {
        "fr": "Cet import est confirmé ou terminé : il ne peut plus être modifié.",
        "nl": "Deze import is bevestigd of afgerond: hij kan niet meer gewijzigd worden.",
        "en": "This import is confirmed or done: it can no longer be changed.",
    },
    "import.invalid": {
        "fr": "L'import contient des erreurs : corrigez ou supprimez les lignes signalées.",
        "nl": "De import bevat fouten: verbeter of verwijder de gemelde rijen.",
        "en": "The import has errors: fix or delete the rows reported.",
    },
    "also_rows": {
        "fr": "voir ligne(s) {rows}",
        "nl": "zie rij(en) {rows}",
        "en": "see row(s) {rows}",
    },
}


def message(code: str, language: str, params: Mapping[str, str] | None = None) -> str:
    """The text of any code the importer reports, in ``language`` (fr/nl/en)."""
    params = dict(params or {})
    texts = IMPORTER_MESSAGES.get(code)
    if texts is None:
        text = rule_messages.message(code, language, params)
    else:
        template = texts.get(language) or texts["en"]
        try:
            text = template.format(**params)
        except (KeyError, IndexError):
            text = template
    if params.get("rows") and "{rows}" not in (texts or {}).get(language, ""):
        text += " (" + message("also_rows", language, {"rows": params["rows"]}) + ")"
    return text
