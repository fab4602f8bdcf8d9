"""The one place where the service's named failures become problem+json (404/409/412/422...)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from portal_client_rules import messages as rule_messages
from portal_clients.domain.errors import (
    ClientsError,
    Conflict,
    FieldIssue,
    Forbidden,
    Invalid,
    NotFound,
    RateLimited,
    StaleVersion,
)
from portal_clients.domain.listing import InvalidCursor
from portal_servicekit.identity import request_language
from portal_servicekit.problems import (
    FieldProblem,
    ProblemError,
    message,
    problem_response,
    register_messages,
)

CLIENTS_MESSAGES: dict[str, dict[str, str]] = {
    "client.conflict": {
        "fr": "Ce client ne peut pas être enregistré : une donnée unique est déjà utilisée.",
        "nl": "Deze klant kan niet bewaard worden: een unieke gegeven is al in gebruik.",
        "en": "This client cannot be saved: a unique value is already in use.",
    },
    "company.on_platform": {
        "fr": "Cette entreprise est déjà cliente d'un autre bureau sur la plateforme et ne peut pas y figurer deux fois. Si elle change de bureau, demandez au client de contacter son bureau actuel : une fois qu'il l'a archivée et que ses données sont libérées (30 jours après l'archivage), vous pourrez l'ajouter.",
        "nl": "Deze onderneming is al klant van een ander kantoor op het platform en kan er geen twee keer op staan. Verandert ze van kantoor, vraag de klant dan contact op te nemen met zijn huidige kantoor: zodra dat haar gearchiveerd heeft en haar gegevens vrijgegeven zijn (30 dagen na de archivering), kunt u haar toevoegen.",
        "en": "This company is already a client of another office on the platform and cannot be on it twice. If it is changing offices, ask the client to contact its current office: once that office has archived it and its details are released (30 days after archiving), you can add it.",
    },
    "client.archived": {
        "fr": "Ce client est archivé : restaurez-le avant de le modifier.",
        "nl": "Deze klant is gearchiveerd: herstel hem voor u hem wijzigt.",
        "en": "This client is archived: restore it before editing it.",
    },
    "client.restore_taken": {
        "fr": "Ce client ne peut plus être restauré : depuis la fin de sa période de conservation, son adresse e-mail ou son numéro de TVA est utilisé par un autre client. Ajoutez-le comme nouveau client avec d'autres données si nécessaire.",
        "nl": "Deze klant kan niet meer hersteld worden: sinds het einde van zijn bewaartermijn wordt zijn e-mailadres of btw-nummer door een andere klant gebruikt. Voeg hem zo nodig toe als nieuwe klant met andere gegevens.",
        "en": "This client can no longer be restored: since its hold ended, its e-mail address or VAT number is used by another client. Add it as a new client with other details if needed.",
    },
    "vat.taken_in_office": {
        "fr": "Votre bureau a déjà un client avec ce numéro de TVA ; modifiez ce client-là plutôt que d'en créer un second.",
        "nl": "Uw kantoor heeft al een klant met dit btw-nummer; wijzig die klant in plaats van een tweede aan te maken.",
        "en": "Your office already has a client with this VAT number; edit that client instead of adding a second one.",
    },
    "vat.company_stopped": {
        "fr": "Cette entreprise est arrêtée selon la Banque-Carrefour des Entreprises (BCE/KBO) : {detail}. Vérifiez le numéro, ou cochez « Ne vérifiez pas le numéro de TVA » si vous êtes sûr des données.",
        "nl": "Deze onderneming is stopgezet volgens de Kruispuntbank van Ondernemingen (KBO): {detail}. Controleer het nummer, of vink « Btw-nummer niet controleren » aan als u zeker bent van de gegevens.",
        "en": "This company has stopped according to the Crossroads Bank for Enterprises (KBO): {detail}. Check the number, or tick “Don't check the VAT number” if you are sure of the data.",
    },
    "reference.taken": {
        "fr": "Cette référence interne est déjà utilisée pour un autre client de votre bureau.",
        "nl": "Deze interne referentie wordt al gebruikt voor een andere klant van uw kantoor.",
        "en": "This internal reference is already used for another client of your office.",
    },
    "group.forbidden": {
        "fr": "Vous n'avez pas accès à ce groupe ; choisissez un de vos groupes.",
        "nl": "U hebt geen toegang tot deze groep; kies een van uw groepen.",
        "en": "You have no access to this group; choose one of your groups.",
    },
    "group.conflict": {
        "fr": "Ce groupe ne peut pas être enregistré.",
        "nl": "Deze groep kan niet bewaard worden.",
        "en": "This group cannot be saved.",
    },
    "group.name_taken": {
        "fr": "Un groupe porte déjà ce nom.",
        "nl": "Er bestaat al een groep met deze naam.",
        "en": "A group with this name already exists.",
    },
    "group.not_empty": {
        "fr": "Ce groupe contient encore {count} client(s) : indiquez vers quel groupe les déplacer (move_to).",
        "nl": "Deze groep bevat nog {count} klant(en): geef aan naar welke groep ze moeten (move_to).",
        "en": "This group still holds {count} client(s): say which group to move them to (move_to).",
    },
    "group.everyone_fixed": {
        "fr": "Le groupe « Everyone » ne peut être ni renommé ni supprimé.",
        "nl": "De groep « Everyone » kan niet hernoemd of verwijderd worden.",
        "en": "The “Everyone” group cannot be renamed or deleted.",
    },
    "office.header_unsafe": {
        "fr": "Ce nom tient sur une ligne : retirez les retours à la ligne et caractères de contrôle.",
        "nl": "Deze naam past op één regel: verwijder regeleinden en stuurtekens.",
        "en": "This name fits on one line: remove line breaks and control characters.",
    },
    "office.languages_repeated": {
        "fr": "Chaque langue ne figure qu'une fois dans la liste.",
        "nl": "Elke taal staat maar één keer in de lijst.",
        "en": "Each language appears only once in the list.",
    },
    "staff.invalid_id": {
        "fr": "Identifiant de collaborateur invalide : 1 à 128 caractères parmi lettres, chiffres et . _ : @ -.",
        "nl": "Ongeldige medewerker-id: 1 tot 128 tekens uit letters, cijfers en . _ : @ -.",
        "en": "Invalid staff id: 1 to 128 characters among letters, digits and . _ : @ -.",
    },
    "availability.rate_limited": {
        "fr": "Trop de vérifications pour votre bureau cette heure-ci ; réessayez dans {retry_after} secondes.",
        "nl": "Te veel controles voor uw kantoor dit uur; probeer opnieuw over {retry_after} seconden.",
        "en": "Too many checks for your office this hour; try again in {retry_after} seconds.",
    },
    "cursor.invalid": {
        "fr": "Curseur de page invalide ; recommencez depuis la première page.",
        "nl": "Ongeldige paginacursor; begin opnieuw bij de eerste pagina.",
        "en": "Invalid page cursor; start again from the first page.",
    },
    "settings.invalid": {
        "fr": "Paramètres invalides.",
        "nl": "Ongeldige instellingen.",
        "en": "Invalid settings.",
    },
}


def register_catalogues() -> None:
    register_messages(rule_messages.CATALOGUE)
    register_messages(CLIENTS_MESSAGES)


def _fields(issues: list[FieldIssue], lang: str) -> list[FieldProblem]:
    return [
        FieldProblem(
            field=i.field,
            code=i.code,
            message=rule_messages.message(i.code, lang, dict(i.params))
            if i.code in rule_messages.CATALOGUE
            else message(i.code, lang, **i.params),
        )
        for i in issues
    ]


def to_problem(exc: Exception, lang: str) -> ProblemError:
    if isinstance(exc, NotFound):
        return ProblemError(404, "not_found")
    if isinstance(exc, StaleVersion):
        return ProblemError(412, "precondition.failed", headers={"ETag": f'"{exc.current}"'})
    if isinstance(exc, Invalid):
        return ProblemError(422, "validation", fields=_fields(exc.issues, lang))
    if isinstance(exc, Conflict):
        params = dict(exc.issues[0].params) if exc.issues else {}
        return ProblemError(409, exc.code, fields=_fields(exc.issues, lang), params=params)
    if isinstance(exc, Forbidden):
        fields = _fields([FieldIssue(exc.field_name, exc.code)], lang) if exc.field_name else None
        return ProblemError(403, exc.code, fields=fields)
    if isinstance(exc, RateLimited):
        wait = str(exc.retry_after_s)
        return ProblemError(
            429, exc.code, params={"retry_after": wait}, headers={"Retry-After": wait}
        )
    if isinstance(exc, InvalidCursor):
        return ProblemError(
            422, "validation", fields=_fields([FieldIssue("cursor", "cursor.invalid")], lang)
        )
    return ProblemError(500, "internal")


def install(app: FastAPI) -> None:
    async def on_error(request: Request, exc: Exception) -> JSONResponse:
        return problem_response(request, to_problem(exc, request_language(request).value))

    app.add_exception_handler(ClientsError, on_error)
    app.add_exception_handler(InvalidCursor, on_error)
