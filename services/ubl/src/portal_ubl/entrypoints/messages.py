"""Messages for a person, by rule id, in fr/nl/en (the domain's English detail is kept after)."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "document.rejected": {
        "fr": "Le document ne peut pas être accepté.",
        "nl": "Het document kan niet worden aanvaard.",
        "en": "The document cannot be accepted.",
    },
    "document.invalid_output": {
        "fr": "Le fichier UBL produit n'est pas conforme ; l'erreur est enregistrée.",
        "nl": "Het aangemaakte UBL-bestand is niet conform; de fout is bewaard.",
        "en": "The UBL file produced is not valid; the error was stored.",
    },
    "client.unknown": {
        "fr": "Client inconnu. S'il vient d'être créé, réessayez dans quelques secondes.",
        "nl": "Onbekende klant. Als die net is aangemaakt, probeer het over enkele seconden.",
        "en": "Unknown client. If it was just created, try again in a few seconds.",
    },
    "client.archived": {
        "fr": "Ce client est archivé : restaurez-le dans le portail pour lui envoyer des documents.",
        "nl": "Deze klant is gearchiveerd: herstel hem in het portaal om er documenten voor te sturen.",
        "en": "This client is archived: restore it in the portal to send it documents.",
    },
    "profile.unknown": {
        "fr": "Profil UBL inconnu ; choisissez parmi : {choices}.",
        "nl": "Onbekend UBL-profiel; kies uit: {choices}.",
        "en": "Unknown UBL profile; choose one of: {choices}.",
    },
    "UBL-PDF-01": {
        "fr": "Le PDF dépasse 20 Mo.",
        "nl": "De PDF is groter dan 20 MB.",
        "en": "The PDF is over 20 MB.",
    },
    "UBL-PDF-02": {
        "fr": "Ce fichier n'est pas un PDF lisible.",
        "nl": "Dit bestand is geen leesbare PDF.",
        "en": "This file is not a readable PDF.",
    },
    "UBL-XML-01": {"fr": "XML mal formé.", "nl": "Ongeldige XML.", "en": "Malformed XML."},
    "UBL-XML-02": {
        "fr": "Les DTD et entités XML sont refusées.",
        "nl": "DTD's en XML-entiteiten worden geweigerd.",
        "en": "XML DTDs and entities are refused.",
    },
    "UBL-XML-03": {
        "fr": "Le fichier XML dépasse 30 Mo.",
        "nl": "Het XML-bestand is groter dan 30 MB.",
        "en": "The XML file is over 30 MB.",
    },
    "UBL-XML-05": {
        "fr": "Le XML contient trop d'éléments pour une facture.",
        "nl": "De XML bevat te veel elementen voor een factuur.",
        "en": "The XML has too many elements for an invoice.",
    },
    "UBL-XML-06": {
        "fr": "Le XML est imbriqué trop profondément pour une facture.",
        "nl": "De XML is te diep genest voor een factuur.",
        "en": "The XML is nested too deeply for an invoice.",
    },
    "BR-CL-17": {
        "fr": "Catégorie de TVA inconnue (S, Z, E, AE, K, G ou O).",
        "nl": "Onbekende btw-categorie (S, Z, E, AE, K, G of O).",
        "en": "Unknown VAT category (S, Z, E, AE, K, G or O).",
    },
    "UBL-QTY-01": {
        "fr": "Une note de crédit indique des quantités positives.",
        "nl": "Een creditnota vermeldt positieve hoeveelheden.",
        "en": "A credit note states positive quantities.",
    },
    "UBL-PAY-01": {
        "fr": "Communication structurée invalide (+++ddd/dddd/ddddd+++, modulo 97).",
        "nl": "Ongeldige gestructureerde mededeling (+++ddd/dddd/ddddd+++, modulo 97).",
        "en": "Invalid structured reference (+++ddd/dddd/ddddd+++, modulo 97).",
    },
    "UBL-DATA-05": {
        "fr": "Les données de la facture dépassent 8 Mo (10 000 lignes au plus) ; envoyez un fichier UBL.",
        "nl": "De factuurgegevens zijn groter dan 8 MB (hoogstens 10.000 regels); stuur een UBL-bestand.",
        "en": "The invoice data is over 8 MB (10,000 lines at most); send a UBL file instead.",
    },
    "UBL-NUM-01": {
        "fr": "Nombre hors limites pour une facture.",
        "nl": "Getal buiten de grenzen van een factuur.",
        "en": "Number out of the bounds of an invoice.",
    },
    "UBL-NUM-02": {
        "fr": "Le montant calculé dépasse 1 000 milliards.",
        "nl": "Het berekende bedrag overschrijdt 1.000 miljard.",
        "en": "The computed amount exceeds one trillion.",
    },
}

_TOTALS = {
    "fr": "Les totaux fournis ne correspondent pas au calcul.",
    "nl": "De opgegeven totalen kloppen niet met de berekening.",
    "en": "The totals given do not add up.",
}
for _rule in ("BR-CO-10", "BR-CO-13", "BR-CO-14", "BR-CO-15", "BR-CO-16"):
    MESSAGES[_rule] = _TOTALS


def field_message(rule: str, language: str, detail: str) -> str:
    texts = MESSAGES.get(rule)
    if texts is None or (language == "en" and not texts):
        return detail
    head = texts.get(language) or texts["en"]
    return f"{head} ({detail})" if detail else head
