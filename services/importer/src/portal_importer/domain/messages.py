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
        "fr": "La feuille contient des données au-delà de la ligne {max} ; importez au plus {max} lignes par fichier.",
        "nl": "Het blad bevat gegevens voorbij rij {max}; importeer hoogstens {max} rijen per bestand.",
        "en": "The sheet holds data beyond row {max}; import at most {max} rows per file.",
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
    "vat.taken": {
        "fr": "Ce numéro de TVA est déjà utilisé sur la plateforme.",
        "nl": "Dit btw-nummer wordt al gebruikt op het platform.",
        "en": "This VAT number is already used on the platform.",
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
